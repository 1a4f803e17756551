"""A database at the schema before the kernel took over the holiday calendar and the limit counters migrates forward
with its rows: the tables stay, the models move, and permissions granted on the calendar keep holding."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_THE_KERNEL: list[tuple[str, str | None]] = [
    ("approvals", "0010_counter_drafts_index"),
    ("portal", "0002_rate_counter"),
    ("core", None),
]

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_databases]


def migrate(targets: list[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


def latest() -> list[tuple[str, str | None]]:
    return list(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_the_calendar_and_the_counters_keep_their_rows_when_the_kernel_takes_them_over():
    final = latest()
    try:
        old = migrate(BEFORE_THE_KERNEL).loader.project_state(BEFORE_THE_KERNEL[:2]).apps
        old_holiday = old.get_model("approvals", "Holiday")
        old_counter = old.get_model("portal", "RateCounter")
        content_type = old.get_model("contenttypes", "ContentType")
        permission = old.get_model("auth", "Permission")
        group = old.get_model("auth", "Group")
        old_holiday.objects.create(day=datetime.date(2027, 2, 8), name="春节")
        old_holiday.objects.create(day=datetime.date(2027, 2, 20), name="春节调休", is_working_day=True)
        old_counter.objects.create(name="a" * 64, count=3, expires_at=2_000_000_000.0)
        holiday_type, _ = content_type.objects.get_or_create(app_label="approvals", model="holiday")
        change, _ = permission.objects.get_or_create(
            content_type=holiday_type, codename="change_holiday", defaults={"name": "Can change holiday"}
        )
        clerks = group.objects.create(name="calendar clerks")
        clerks.permissions.add(change)

        new = migrate(final).loader.project_state(final).apps

        holiday = new.get_model("core", "Holiday")
        assert list(holiday.objects.order_by("day").values_list("day", "name", "is_working_day")) == [
            (datetime.date(2027, 2, 8), "春节", False),
            (datetime.date(2027, 2, 20), "春节调休", True),
        ]
        assert list(new.get_model("core", "RateCounter").objects.values_list("name", "count")) == [("a" * 64, 3)]
        moved = new.get_model("contenttypes", "ContentType").objects.get(pk=holiday_type.pk)
        assert (moved.app_label, moved.model) == ("core", "holiday")
        assert list(
            new.get_model("auth", "Group").objects.get(pk=clerks.pk).permissions.values_list("pk", flat=True)
        ) == [change.pk]
    finally:
        migrate(final)
