import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    # Apart from 0005: on PostgreSQL the backfill's deferred foreign-key checks must commit before the ALTER.

    dependencies = [
        ("leads", "0005_seller_denormalized"),
    ]

    operations = [
        migrations.AlterField(
            model_name="appointment",
            name="seller",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="sellers.seller"),
        ),
    ]
