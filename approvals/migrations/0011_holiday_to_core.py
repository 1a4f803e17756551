"""The holiday calendar moved to the kernel (core.Holiday); its table and rows stay where they are."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0010_counter_drafts_index"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="Holiday")], database_operations=[]),
    ]
