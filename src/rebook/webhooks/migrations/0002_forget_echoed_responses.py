"""Deliveries used to keep the first 500 bytes of the endpoint's answer; keep only Rebook's own note now."""

from django.db import migrations


def forget(apps, schema_editor):
    Delivery = apps.get_model("webhooks", "Delivery")
    Delivery.objects.exclude(last_response="").update(last_response="(answer not kept)")


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial")]
    operations = [migrations.RunPython(forget, migrations.RunPython.noop)]
