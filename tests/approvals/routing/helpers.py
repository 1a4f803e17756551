"""What the routing tests share beyond tests/approvals/helpers.py: the events, messages and workflows they read."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from approvals.models import Application, ApplicationEvent, Outbox
from approvals.workflow import APPROVE, REFUSE, RETURN
from tests.approvals.builders import (
    workflow_stage,
    workflow_task,
)

NOTE = "请补充申请事由。"


FALLBACK_NOTE = "No department of the named kind here; the implementing department handles it."


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


def decided_message(application: Application, outcome_display: str) -> dict[str, Any]:
    return {
        "number": application.number,
        "service_name": "居住证明开具",
        "url": reverse("approvals:application", kwargs={"number": application.number}),
        "outcome_display": outcome_display,
    }


def unprocessed() -> int:
    return Outbox.objects.filter(processed_at__isnull=True).count()


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
