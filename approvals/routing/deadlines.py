"""The clock: restarted after a stop, deemed acceptance after 5 working days, 黄灯/红灯 for tasks near and past due."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from accounts import selectors as account_selectors
from accounts.models import StaffRole
from approvals.journal import record_event
from approvals.models import Application, ApplicationEvent, ApplicationParty, WorkflowTask
from approvals.routing.engine import Writes, accept
from core import calendar
from interaction.actions import notify

Event = ApplicationEvent.Action

Status = Application.Status

# 行政许可法: a 补正 request comes within 5 working days of receipt, or the application counts as accepted.
SUPPLEMENT_WINDOW_DAYS = 5


def clock_restart(application: Application) -> int:
    """The clock runs again after a 补正 or a special procedure: the due dates move on by the working days it stood.

    Returns those working days; the caller saves the application and moves on whatever else was due.
    """
    if application.clock_stopped_at is None:
        return 0
    stopped = calendar.working_days_between(calendar.local_day(application.clock_stopped_at), timezone.localdate())
    if stopped:
        if application.due_date is not None:
            application.due_date = calendar.add_working_days(application.due_date, stopped)
        if application.legal_due_date is not None:
            application.legal_due_date = calendar.add_working_days(application.legal_due_date, stopped)
    application.clock_stopped_at = None
    return stopped


def acceptance_sweep() -> int:
    """Applications with no 补正 request within 5 working days of receipt count as accepted from that day."""
    today = timezone.localdate()
    deemed = 0
    # Six working days are at least six calendar days: anything newer cannot be due yet.
    waiting = (
        Application.objects.filter(
            status=Status.SUBMITTED,
            accepted_at__isnull=True,
            submitted_at__lte=timezone.now() - datetime.timedelta(days=SUPPLEMENT_WINDOW_DAYS),
        )
        # Made together and still waiting for a party's confirmation: not received yet (parties.party_confirm).
        .exclude(pk__in=ApplicationParty.objects.filter(confirmed_at__isnull=True).values("application_id"))
        .order_by("submitted_at", "pk")
        .values_list("pk", "submitted_at")
    )
    for application_id, submitted_at in list(waiting[:1000]):
        if submitted_at is None:
            continue
        # After a 补正 the complete materials were received when the applicant answered it.
        supplemented = (
            ApplicationEvent.objects.filter(application_id=application_id, action=Event.SUPPLEMENTED)
            .order_by("-at")
            .values_list("at", flat=True)
            .first()
        )
        received_at = max(submitted_at, supplemented) if supplemented else submitted_at
        received = calendar.local_day(received_at)
        if calendar.working_days_between(received, today) <= SUPPLEMENT_WINDOW_DAYS:
            continue
        with transaction.atomic():
            application = (
                Application.objects.select_for_update()
                .select_related("service")
                .filter(pk=application_id, status=Status.SUBMITTED, accepted_at__isnull=True)
                .first()
            )
            if application is None:
                continue
            application.is_deemed_accepted = True
            writes = Writes()
            writes.save(application, "is_deemed_accepted")
            accept(application, department_id=application.department_id, writes=writes, at=received_at)
            writes.flush()
            deemed += 1
    return deemed


def _tell_about_task(task: WorkflowTask, event: str) -> None:
    """The clerk holding the task and the department's supervisors, once each."""
    with override(None):
        service_name = task.application.service.name
    recipients = set(account_selectors.department_members(task.department_id, role=StaffRole.SUPERVISOR))
    if task.assignee_id is not None:
        recipients.add(task.assignee_id)
    for recipient_id in sorted(recipients):
        notify(
            recipient_id,
            event,
            {
                "number": task.application.number or "",
                "service_name": service_name,
                "task_name": task.name,
                "url": reverse("workbench:task", kwargs={"task_id": task.pk}),
            },
        )


def _keep_first_warning(colour: str, now: datetime.datetime) -> dict[str, Any]:
    # A task going straight to red counts as warned too; one warned before keeps its first warning time.
    return {"warned_at": Coalesce("warned_at", Value(now))} if colour == "red" else {}


def deadlines_sweep() -> tuple[int, int]:
    """黄灯 and 红灯 (every minute): tasks due within a working day, and overdue ones, told once each.

    A task turning yellow tells its clerk and the supervisors; turning red tells them
    again and records an 电子监察 (electronic supervision) event on the application.
    Returns (yellow, red) told in this run.
    """
    now = timezone.now()
    soon = calendar.end_of_working_day(calendar.add_working_days(timezone.localdate(), 1))
    told = {"yellow": 0, "red": 0}
    candidates = [
        ("red", "escalated_at", WorkflowTask.objects.filter(due_at__lt=now, escalated_at__isnull=True)),
        (
            "yellow",
            "warned_at",
            WorkflowTask.objects.filter(due_at__gte=now, due_at__lte=soon, warned_at__isnull=True),
        ),
    ]
    for colour, column, tasks in candidates:
        # While the clock stands (补正, 特别程序) nothing falls due.
        running = tasks.filter(status__in=WorkflowTask.OPEN).exclude(application__status__in=Application.CLOCK_STOPPED)
        for task_id in list(running.values_list("pk", flat=True)[:1000]):
            with transaction.atomic():
                claimed = WorkflowTask.objects.filter(
                    pk=task_id, status__in=WorkflowTask.OPEN, **{f"{column}__isnull": True}
                ).update(**{column: now, **_keep_first_warning(colour, now)})
                if not claimed:
                    continue
                task = WorkflowTask.objects.select_related("application__service").get(pk=task_id)
                if colour == "red":
                    record_event(
                        task.application,
                        Event.OVERDUE,
                        actor=None,
                        actor_label="system:supervision",
                        department_id=task.department_id,
                        details={"task": task.name, "due_at": task.due_at.isoformat()},
                    )
                _tell_about_task(task, "task_overdue" if colour == "red" else "task_due_soon")
                told[colour] += 1
    return told["yellow"], told["red"]
