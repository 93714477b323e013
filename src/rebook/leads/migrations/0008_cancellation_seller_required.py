import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    # Apart from 0007, as 0006 is from 0005.

    dependencies = [
        ("leads", "0007_cancellation_seller"),
    ]

    operations = [
        migrations.AlterField(
            model_name="cancellation",
            name="seller",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="sellers.seller"),
        ),
    ]
