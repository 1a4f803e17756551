"""The kernel takes over two models whose tables already exist: the holiday calendar (from approvals) and the
limit counters (from portal). Only Django's picture of the models moves; the tables, their names and their rows stay.
The content types move too, so permissions granted on the holiday calendar keep holding."""

from django.db import migrations, models


def move_content_types(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    for old_app, model in (("approvals", "holiday"), ("portal", "ratecounter")):
        if content_type.objects.filter(app_label="core", model=model).exists():
            continue
        content_type.objects.filter(app_label=old_app, model=model).update(app_label="core")


def move_content_types_back(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    for old_app, model in (("approvals", "holiday"), ("portal", "ratecounter")):
        if content_type.objects.filter(app_label=old_app, model=model).exists():
            continue
        content_type.objects.filter(app_label="core", model=model).update(app_label=old_app)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("approvals", "0010_counter_drafts_index"),
        ("portal", "0002_rate_counter"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Holiday",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("day", models.DateField(unique=True, verbose_name="day")),
                        ("is_working_day", models.BooleanField(default=False, verbose_name="working day")),
                        ("name", models.CharField(blank=True, max_length=40, verbose_name="name")),
                    ],
                    options={
                        "verbose_name": "holiday or working weekend",
                        "verbose_name_plural": "holiday calendar",
                        "ordering": ["day"],
                        "db_table": "approvals_holiday",
                    },
                ),
                migrations.CreateModel(
                    name="RateCounter",
                    fields=[
                        ("name", models.CharField(max_length=250, primary_key=True, serialize=False, verbose_name="name")),
                        ("count", models.PositiveIntegerField(verbose_name="count")),
                        ("expires_at", models.FloatField(verbose_name="expires at")),
                    ],
                    options={
                        "verbose_name": "rate counter",
                        "verbose_name_plural": "rate counters",
                        "db_table": "portal_ratecounter",
                        "indexes": [models.Index(fields=["expires_at"], name="portal_counter_expires_idx")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
