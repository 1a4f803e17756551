"""The limit counters moved to the kernel (core.RateCounter); the table and its rows stay where they are."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0002_rate_counter"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="RateCounter")], database_operations=[]
        ),
    ]
