from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0014_appointment_updated_at"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(fields=["seller", "ical_uid", "recurrence_id"], name="appointment_seller_uid"),
        ),
    ]
