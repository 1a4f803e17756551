"""What tests across tests/approvals share: a pinned clock, routing done now, reading tasks back, waiting, threads."""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection

from approvals.models import Application, Outbox, WorkflowTask
from approvals.routing import engine
from interaction.models import Message
from services.models import Department, ServiceItem
from tests.approvals.builders import make_applicable_item
from tests.datahub.builders import make_wang_household

DEADLINE_SECONDS = 20  # how long a test waits for a worker or a thread before it fails


# --- Time ------------------------------------------------------------------------------


def day(month: int, number: int) -> datetime.date:
    return datetime.date(2026, month, number)


def ten_am(month: int, number: int) -> datetime.datetime:
    """10:00 in Shanghai on a day of 2026."""
    return datetime.datetime(2026, month, number, 2, 0, tzinfo=datetime.UTC)


def five_pm(month: int, number: int) -> datetime.datetime:
    """17:00 in Shanghai on a day of 2026: when a task due that day runs out."""
    return datetime.datetime(2026, month, number, 9, 0, tzinfo=datetime.UTC)


class Clock:
    """The time ``django.utils.timezone.now`` gives while the ``clock`` fixture is in use, in this thread and in a
    worker thread's (time_machine is absent)."""

    def __init__(self, now: datetime.datetime) -> None:
        self.now = now

    def set(self, month: int, number: int) -> None:
        self.now = ten_am(month, number)

    def advance(self, **delta: float) -> None:
        self.now += datetime.timedelta(**delta)


# --- Routing ---------------------------------------------------------------------------


def item_with(department: Department, workflow: dict[str, Any], **overrides: Any) -> ServiceItem:
    """An item of ``workflow`` promised in 8 working days, with 王小明's household in the population registry."""
    make_wang_household()
    return make_applicable_item(department=department, workflow=workflow, promised_limit=8, **overrides)


def route() -> int:
    """Do now what the routing worker does after each commit: process every routing promise still open, oldest
    first; how many this call processed."""
    pending = list(Outbox.objects.filter(processed_at__isnull=True).order_by("pk").values_list("pk", flat=True))
    return sum(engine.outbox_process(outbox_id=outbox_id) for outbox_id in pending)


def row(application: Application) -> Application:
    return Application.objects.get(pk=application.pk)


def tasks_of(application: Application) -> list[tuple[str, int, int, str, str]]:
    """(stage, round, department, status, result) of each task, in the order they were made."""
    return list(
        WorkflowTask.objects.filter(application=application)
        .order_by("pk")
        .values_list("stage_key", "stage_round", "department_id", "status", "result")
    )


def promises_of(*applications: Application) -> list[tuple[bool, int]]:
    """(processed, attempts) of each routing promise of the applications, in the order they were made."""
    return [
        (row.processed_at is not None, row.attempts)
        for row in Outbox.objects.filter(application__in=applications).order_by("pk")
    ]


def open_task(application: Application, key: str | None = None) -> WorkflowTask:
    tasks = WorkflowTask.objects.filter(application=application, status__in=WorkflowTask.OPEN)
    return tasks.get(task_key=key) if key else tasks.get()


def inbox(event: str) -> list[tuple[int, dict[str, Any]]]:
    """(recipient, context) of each message of ``event``, in the order they were sent."""
    return list(Message.objects.filter(event=event).order_by("pk").values_list("recipient_id", "context"))


# --- Waiting and threads -----------------------------------------------------------------


def wait_for(condition: Callable[[], bool], seconds: float = DEADLINE_SECONDS) -> bool:
    """Poll until ``condition`` holds or the deadline passes; whether it held."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(0)`` … ``work(count - 1)`` in as many threads, released together; each closes its connection."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as error:  # collected and reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert errors == []
    return results


# --- Tracking ----------------------------------------------------------------------------


def wrong(password: str) -> str:
    """Another six-digit query password than ``password``."""
    return f"{(int(password) + 1) % 10**6:06d}"
