import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0013_forecast_risk"),
        ("sellers", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(fields=["seller", "updated_at"], name="appointment_seller_updated"),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["seller", "updated_at"], name="lead_seller_updated"),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["seller", "open_cancellation_at"], name="lead_open_cancellation",
                               condition=models.Q(open_cancellation_at__isnull=False)),
        ),
    ]
