from django.db import migrations, models


def _known(apps, schema_editor):
    # A seller already on a zone other than UTC chose it (or the machine's, which they have seen since); one on
    # UTC is asked once.
    Seller = apps.get_model("sellers", "Seller")
    Seller.objects.exclude(timezone="UTC").update(timezone_chosen=True)


class Migration(migrations.Migration):

    dependencies = [
        ("sellers", "0007_forecast_risk"),
    ]

    operations = [
        migrations.AddField(
            model_name="seller",
            name="timezone_chosen",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(_known, migrations.RunPython.noop),
    ]
