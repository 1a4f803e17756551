"""What the routing tests share: submitting, routing, deciding, reading rows back."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.urls import reverse

from accounts.models import User
from approvals.models import Application, ApplicationEvent, Outbox, WorkflowTask
from approvals.routing import engine
from approvals.workflow import APPROVE, REFUSE, RETURN
from interaction.models import Message
from services.models import Department, ServiceItem
from tests.approvals.builders import (
    make_applicable_item,
    workflow_stage,
    workflow_task,
)
from tests.datahub.builders import make_wang_household

UTC = datetime.UTC


NOTE = "请补充申请事由。"


FALLBACK_NOTE = "No department of the named kind here; the implementing department handles it."


def day(month: int, number: int) -> datetime.date:
    return datetime.date(2026, month, number)


def ten_am(month: int, number: int) -> datetime.datetime:
    """10:00 in Shanghai on a day of 2026."""
    return datetime.datetime(2026, month, number, 2, 0, tzinfo=UTC)


def five_pm(month: int, number: int) -> datetime.datetime:
    """17:00 in Shanghai on a day of 2026: when a task due that day runs out."""
    return datetime.datetime(2026, month, number, 9, 0, tzinfo=UTC)


class Clock:
    """The time ``django.utils.timezone.now`` gives while the ``clock`` fixture is in use."""

    def __init__(self, now: datetime.datetime) -> None:
        self.now = now

    def set(self, month: int, number: int) -> None:
        self.now = ten_am(month, number)


def item_with(department: Department, workflow: dict[str, Any], **overrides: Any) -> ServiceItem:
    make_wang_household()
    return make_applicable_item(department=department, workflow=workflow, promised_limit=8, **overrides)


def route() -> int:
    """Process every routing promise still open, oldest first; how many this call processed."""
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


def open_task(application: Application, key: str | None = None) -> WorkflowTask:
    tasks = WorkflowTask.objects.filter(application=application, status__in=WorkflowTask.OPEN)
    return tasks.get(task_key=key) if key else tasks.get()


QUEUE_EVENTS = ("task_claimed", "task_released", "task_reassigned")


def events_of(application: Application) -> list[str]:
    """The routing events (the queue's own comings and goings have a test of their own)."""
    return list(
        ApplicationEvent.objects.filter(application=application)
        .exclude(action__in=QUEUE_EVENTS)
        .order_by("pk")
        .values_list("action", flat=True)
    )


def event(application: Application, action: str) -> ApplicationEvent:
    """The latest event of this kind."""
    found = ApplicationEvent.objects.filter(application=application, action=action).order_by("pk").last()
    assert found is not None, action
    return found


def inbox(event_name: str) -> list[tuple[int, dict[str, Any]]]:
    return list(Message.objects.filter(event=event_name).order_by("pk").values_list("recipient_id", "context"))


def decided_message(application: Application, outcome_display: str) -> dict[str, Any]:
    return {
        "number": application.number,
        "service_name": "居住证明开具",
        "url": reverse("approvals:application", kwargs={"number": application.number}),
        "outcome_display": outcome_display,
    }


def unprocessed() -> int:
    return Outbox.objects.filter(processed_at__isnull=True).count()


@dataclass
class Joint:
    police: Department  # 公安 of the applicant's county
    market: Department  # 市场监管 of the applicant's county
    housing: Department  # 住房 of the city above it
    clerks: dict[str, User]


def joint_workflow(join: Any = "all", *, housing_kind: str = "housing") -> dict[str, Any]:
    """Three departments check side by side (公安 and 市场监管 of the county, 住房 of the city), then the decision."""
    results = [APPROVE, REFUSE, RETURN]
    return {
        "stages": [
            workflow_stage(
                "joint",
                workflow_task(
                    "police",
                    department={"rule": "kind", "kind": "public_security", "level": "county"},
                    results=results,
                ),
                workflow_task(
                    "market",
                    department={"rule": "kind", "kind": "market_regulation", "level": "county"},
                    results=results,
                ),
                workflow_task(
                    "housing", department={"rule": "kind", "kind": housing_kind, "level": "city"}, results=results
                ),
                join=join,
            ),
            workflow_stage("decide", workflow_task("decide")),
        ]
    }


def trust_first_workflow() -> dict[str, Any]:
    return {"stages": [workflow_stage("verify", workflow_task("verify", name="核查"))], "trust_first": True}


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(0)`` … ``work(count - 1)`` in as many threads released together; each closes its connection."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert errors == []
    return results


def promises_of(*applications: Application) -> list[tuple[bool, int]]:
    return [
        (row.processed_at is not None, row.attempts)
        for row in Outbox.objects.filter(application__in=applications).order_by("pk")
    ]
