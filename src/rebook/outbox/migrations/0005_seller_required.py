import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    # Apart from 0004: on PostgreSQL the backfill's deferred foreign-key checks must commit before the ALTER.

    dependencies = [
        ("outbox", "0004_seller_denormalized"),
    ]

    operations = [
        migrations.AlterField(
            model_name="plannedmessage",
            name="seller",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="sellers.seller"),
        ),
    ]
