"""The routing outbox: the row that promises routing, written in the caller's transaction, and its sending.

A row is sent to the routing task by the task's name on commit (the fast path); the sweeper sends what is
still unprocessed. This module names the task and does not import it, so every writer can call down into it.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from approvals.models import Application, Outbox, WorkflowTask
from core.queueing import send_task_now

logger = logging.getLogger(__name__)

ROUTE_TASK = "approvals.tasks.route_application"


def outbox_send(outbox_id: int) -> None:
    """Hand the routing of one outbox row to a worker (the fast path; the sweeper is the guarantee)."""
    send_task_now(ROUTE_TASK, outbox_id)


def outbox_add(application: Application) -> Outbox:
    """Promise, in the caller's transaction, that routing looks at this application after the commit."""
    outbox = Outbox.objects.create(kind=Outbox.Kind.ROUTE, application=application)
    transaction.on_commit(lambda: outbox_send(outbox.pk), robust=True)
    return outbox


def awaiting_routing_count(department_ids: list[int]) -> int:
    """How many applications these departments decided a task of are waiting for routing to move them on.

    Between a decision's commit and the routing worker's (a few seconds), the next stage
    has no task yet: the workbench says so rather than that nothing is left to do.
    """
    return (
        Outbox.objects.filter(
            processed_at__isnull=True,
            application__tasks__department_id__in=department_ids,
            application__tasks__status=WorkflowTask.Status.DONE,
        )
        .values("application_id")
        .distinct()
        .count()
    )


# A row whose routing failed this many times is no longer sent by the sweeper: it waits for an operator
# (it stays in the table, and every sweep logs it as an error until someone deals with it).
MAX_ROUTING_ATTEMPTS = 10


def outbox_failed(*, outbox_id: int) -> None:
    """Count a failed routing of the row (outside the failed transaction, which rolled back)."""
    Outbox.objects.filter(pk=outbox_id, processed_at__isnull=True).update(attempts=F("attempts") + 1)


def outbox_sweep(*, older_than: datetime.timedelta = datetime.timedelta(minutes=1)) -> int:
    """Send again the outbox rows nobody processed (the broker lost them, or a worker died); returns how many."""
    pending = Outbox.objects.filter(processed_at__isnull=True, created_at__lte=timezone.now() - older_than)
    given_up = pending.filter(attempts__gte=MAX_ROUTING_ATTEMPTS).count()
    if given_up:
        logger.error("%d routing promises failed %d times and wait for an operator", given_up, MAX_ROUTING_ATTEMPTS)
    stuck = list(
        pending.filter(attempts__lt=MAX_ROUTING_ATTEMPTS).order_by("created_at").values_list("pk", flat=True)[:1000]
    )
    for outbox_id in stuck:
        outbox_send(outbox_id)
    return len(stuck)
