"""Database connections around tasks: kept as Django keeps them between requests, not reopened for every task."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.db import connection

from portal.celery import app

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql_only]

A_TASK = SimpleNamespace(request=SimpleNamespace(is_eager=False))


@pytest.fixture
def kept_for_a_minute() -> Iterator[None]:
    """Production's DATABASE_CONN_MAX_AGE (the tests close every connection)."""
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = 60
    yield
    connection.settings_dict["CONN_MAX_AGE"] = 0
    connection.close()


def run_a_task() -> None:
    task_prerun.send(sender=None, task_id="a", task=A_TASK)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    task_postrun.send(sender=None, task_id="a", task=A_TASK)


def test_celery_is_told_to_reuse_connections() -> None:
    assert settings.CELERY_DB_REUSE_MAX >= 100
    assert app.conf.get("CELERY_DB_REUSE_MAX") == settings.CELERY_DB_REUSE_MAX


def test_the_next_task_uses_the_same_connection(kept_for_a_minute: None) -> None:
    run_a_task()
    first = connection.connection
    run_a_task()

    assert first is not None
    assert connection.connection is first


def test_a_connection_past_its_age_is_closed_before_the_next_task(kept_for_a_minute: None) -> None:
    run_a_task()
    first = connection.connection
    connection.close_at = time.monotonic() - 1

    run_a_task()

    assert connection.connection is not first


def test_a_connection_left_in_a_transaction_is_dropped(kept_for_a_minute: None) -> None:
    run_a_task()
    first = connection.connection
    connection.set_autocommit(False)  # a task that left without restoring it

    run_a_task()

    assert connection.connection is not first
    assert connection.get_autocommit() is True
