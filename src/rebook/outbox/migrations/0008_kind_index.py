from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0007_prospect_links"),
        ("sellers", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="plannedmessage",
            index=models.Index(fields=["seller", "kind", "-created_at"], name="outbox_kind_by_seller"),
        ),
    ]
