"""The workbench's writes: claim, release, reassign and decide tasks; extend, suspend and resume applications.

A decision that decides its stage promises routing (an outbox row) in the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from accounts.models import User
from approvals import workflow
from approvals.applications.submission import request_supplement_locked
from approvals.journal import notify_applicant, record_event
from approvals.models import Application, ApplicationEvent, WorkflowTask
from approvals.outbox import outbox_add
from approvals.routing.deadlines import SUPPLEMENT_WINDOW_DAYS, clock_restart
from approvals.routing.engine import SYSTEM
from approvals.workbench.queue import is_supervisor
from core import calendar
from core.errors import Conflict, DomainError, NotFound

Event = ApplicationEvent.Action

Status = Application.Status

MAX_EXTENSION_DAYS = 10


def _membership_roles(user: User, department_id: int) -> set[str]:
    return set(account_selectors.staff_roles(user, department_id))


def _locked_task(task_id: int) -> tuple[Application, WorkflowTask]:
    """The task and its application, the application locked first (the order every decision takes)."""
    application_id = WorkflowTask.objects.filter(pk=task_id).values_list("application_id", flat=True).first()
    if application_id is None:
        raise NotFound(_("No such task."))
    application = Application.objects.select_for_update().select_related("service", "department").get(pk=application_id)
    task = WorkflowTask.objects.select_for_update().get(pk=task_id)
    return application, task


@transaction.atomic
def task_claim(*, task_id: int, clerk: User) -> WorkflowTask:
    """Take a waiting task of one's department; two clerks clicking at once never both get it."""
    departments = account_selectors.staff_departments(clerk)
    task = (
        WorkflowTask.objects.select_for_update(skip_locked=True)
        .filter(pk=task_id, department_id__in=departments)
        .first()
    )
    if task is None:
        if WorkflowTask.objects.filter(pk=task_id, department_id__in=departments).exists():
            raise Conflict(_("Someone else is taking this task right now."), code="task_taken")
        raise NotFound(_("No such task."))
    if task.status == WorkflowTask.Status.CLAIMED and task.assignee_id == clerk.pk:
        return task
    if task.status != WorkflowTask.Status.PENDING:
        raise Conflict(_("This task is no longer waiting: someone else took it or it is done."), code="task_taken")
    task.status = WorkflowTask.Status.CLAIMED
    task.assignee = clerk
    task.claimed_at = timezone.now()
    task.save(update_fields=["status", "assignee", "claimed_at"])
    _record_task_event(task, Event.TASK_CLAIMED, actor=clerk)
    return task


def _record_task_event(task: WorkflowTask, action: str, *, actor: User | None, **details: Any) -> None:
    """Who took, gave back or handed on a task: the audit trail of the queue (no application lock needed)."""
    ApplicationEvent.objects.create(
        application_id=task.application_id,
        action=action,
        actor=actor,
        actor_label="" if actor is not None else SYSTEM,
        department_id=task.department_id,
        details={"task": task.name, "stage": task.stage_key, **details},
    )


@transaction.atomic
def task_release(*, task_id: int, clerk: User) -> WorkflowTask:
    """Put one's claimed task back in the queue."""
    updated = WorkflowTask.objects.filter(pk=task_id, status=WorkflowTask.Status.CLAIMED, assignee_id=clerk.pk).update(
        status=WorkflowTask.Status.PENDING, assignee=None, claimed_at=None
    )
    if not updated:
        raise Conflict(_("You do not hold this task."), code="not_assignee")
    task = WorkflowTask.objects.get(pk=task_id)
    _record_task_event(task, Event.TASK_RELEASED, actor=clerk)
    return task


@transaction.atomic
def task_reassign(*, task_id: int, supervisor: User, to_user_id: int | None) -> WorkflowTask:
    """A supervisor gives an open task of their department to a clerk of it (or back to the queue)."""
    task = WorkflowTask.objects.select_for_update().filter(pk=task_id).first()
    if task is None or not is_supervisor(supervisor, task.department_id):
        raise NotFound(_("No such task."))
    if not task.is_open:
        raise Conflict(_("This task is done."), code="task_done")
    if to_user_id is None:
        task.status, task.assignee, task.claimed_at = WorkflowTask.Status.PENDING, None, None
    else:
        target = User.objects.filter(pk=to_user_id).first()
        if target is None or not _membership_roles(target, task.department_id):
            raise DomainError(
                _("Give the task to a member of the department."),
                code="validation_error",
                fields={"assignee": [_("Not a member of this department.")]},
            )
        task.status, task.assignee, task.claimed_at = WorkflowTask.Status.CLAIMED, target, timezone.now()
    task.save(update_fields=["status", "assignee", "claimed_at"])
    _record_task_event(task, Event.TASK_REASSIGNED, actor=supervisor, assignee_id=to_user_id)
    return task


def staff_left_department(*, user_id: int, department_id: int) -> int:
    """A member left a department: the tasks they held there go back to its queue at once."""
    held = list(
        WorkflowTask.objects.select_for_update().filter(
            assignee_id=user_id, department_id=department_id, status=WorkflowTask.Status.CLAIMED
        )
    )
    for task in held:
        task.status, task.assignee, task.claimed_at = WorkflowTask.Status.PENDING, None, None
        task.save(update_fields=["status", "assignee", "claimed_at"])
        _record_task_event(task, Event.TASK_RELEASED, actor=None, reason="staff_left", former_assignee_id=user_id)
    return len(held)


@transaction.atomic
def task_decide(
    *,
    task_id: int,
    clerk: User,
    result: str,
    opinion: str = "",
    supplement_fields: list[str] | None = None,
    supplement_materials: list[str] | None = None,
) -> WorkflowTask:
    """Decide one's claimed task; when that decides its stage, routing is promised in the same transaction."""
    application, task = _locked_task(task_id)
    if task.department_id not in account_selectors.staff_departments(clerk):
        raise NotFound(_("No such task."))
    if task.status != WorkflowTask.Status.CLAIMED or task.assignee_id != clerk.pk:
        raise Conflict(_("Claim the task before deciding it."), code="not_assignee")
    if application.status == Status.SUSPENDED:
        raise Conflict(_("The application is in a special procedure: decide after it ends."), code="suspended")
    if result not in task.allowed_results:
        raise DomainError(
            _("Choose one of the results this task allows."),
            code="validation_error",
            fields={"result": [_("Choose one of: %(results)s.") % {"results": "、".join(task.allowed_results)}]},
        )
    opinion = opinion.strip()
    if result in workflow.NEEDS_OPINION and not opinion:
        raise DomainError(
            _("Say why: the applicant reads it."),
            code="validation_error",
            fields={"opinion": [_("Give the reasons for this result.")]},
        )
    if result in (workflow.SUPPLEMENT, workflow.NOT_ACCEPT) and application.is_deemed_accepted:
        raise Conflict(
            _("No 补正 was asked within 5 working days of receipt: the application counts as accepted."),
            code="deemed_accepted",
        )
    now = timezone.now()
    if result == workflow.SUPPLEMENT:
        received = calendar.local_day(application.submitted_at or now)
        if calendar.working_days_between(received, timezone.localdate()) > SUPPLEMENT_WINDOW_DAYS:
            raise Conflict(
                _("A 补正 must be asked within 5 working days of receipt; that time has passed."),
                code="supplement_too_late",
            )
        request_supplement_locked(
            application,
            actor=clerk,
            department_id=task.department_id,
            fields=supplement_fields or [],
            materials=supplement_materials or [],
            note=opinion,
        )
    task.status = WorkflowTask.Status.DONE
    task.result = result
    task.opinion = opinion
    task.decided_by = clerk
    task.finished_at = now
    task.save(update_fields=["status", "result", "opinion", "decided_by", "finished_at"])
    record_event(
        application,
        Event.TASK_DONE,
        actor=clerk,
        department_id=task.department_id,
        note=opinion if result in workflow.NEEDS_OPINION else "",
        details={"task": task.name, "result": result, "stage": task.stage_key},
    )
    flow = workflow.parse(application.service.workflow)
    stage = flow.stages[task.stage_index]
    results = list(
        application.tasks.filter(stage_index=task.stage_index, stage_round=task.stage_round)
        .exclude(status=WorkflowTask.Status.CANCELLED)
        .values_list("status", "result")
    )
    outcome = workflow.stage_outcome(stage, [res if st == WorkflowTask.Status.DONE else None for st, res in results])
    if outcome != workflow.OPEN:
        # The stage is decided: its other tasks end now, so no later result can change what it decided.
        application.tasks.filter(
            stage_index=task.stage_index, stage_round=task.stage_round, status__in=WorkflowTask.OPEN
        ).update(status=WorkflowTask.Status.CANCELLED, finished_at=now)
        outbox_add(application)
    return task


# What a supervisor of the handling department may do to an application now: the actions below refuse
# anything else, and the task page offers only these.


def may_be_extended(application: Application) -> bool:
    """延长审批 is possible: accepted, being handled, with a due date (the days left are checked on asking)."""
    return application.status in Application.EXTENDABLE and application.due_date is not None


def may_be_suspended(application: Application) -> bool:
    return application.status in Application.SUSPENDABLE


def may_be_resumed(application: Application) -> bool:
    return application.status == Status.SUSPENDED


@transaction.atomic
def application_extend(*, application_id: int, supervisor: User, days: int, reason: str) -> Application:
    """延长审批: a supervisor of the handling department extends the time limit, at most 10 working days in all."""
    application = Application.objects.select_for_update().filter(pk=application_id).first()
    if application is None or not is_supervisor(supervisor, application.department_id):
        raise NotFound(_("No such application."))
    if not may_be_extended(application):
        raise Conflict(_("Only an accepted application that is being handled can be extended."), code="wrong_status")
    assert application.due_date is not None  # may_be_extended says so
    reason = reason.strip()
    problems: dict[str, list[str]] = {}
    if not 1 <= days <= MAX_EXTENSION_DAYS - application.extended_days:
        problems["days"] = [
            _("An extension is at most %(max)s working days in all; %(left)s are left.")
            % {"max": MAX_EXTENSION_DAYS, "left": MAX_EXTENSION_DAYS - application.extended_days}
        ]
    if not reason:
        problems["reason"] = [_("Give the reason: the applicant is told it.")]
    if problems:
        raise DomainError(_("The extension cannot be granted as asked."), code="validation_error", fields=problems)
    application.due_date = calendar.add_working_days(application.due_date, days)
    if application.legal_due_date is not None:
        application.legal_due_date = calendar.add_working_days(application.legal_due_date, days)
    application.extended_days += days
    application.save(update_fields=["due_date", "legal_due_date", "extended_days", "updated_at"])
    open_tasks = application.tasks.filter(status__in=WorkflowTask.OPEN)
    for task in open_tasks:
        task.due_at = calendar.end_of_working_day(calendar.add_working_days(calendar.local_day(task.due_at), days))
        # The new due time is told again as it nears and passes.
        task.warned_at = task.escalated_at = None
        task.save(update_fields=["due_at", "warned_at", "escalated_at"])
    record_event(
        application,
        Event.EXTENDED,
        actor=supervisor,
        department_id=application.department_id,
        note=reason,
        details={"days": days, "due_date": application.due_date.isoformat()},
    )
    notify_applicant(
        application,
        "application_extended",
        days=days,
        due_date=application.due_date.isoformat(),
        reason=reason,
    )
    return application


SPECIAL_PROCEDURES = {
    "hearing": "听证",
    "testing": "检验、检测、检疫",
    "appraisal": "鉴定、专家评审",
    "on_site": "现场核查",
}


@transaction.atomic
def application_suspend(*, application_id: int, supervisor: User, procedure: str, reason: str) -> Application:
    """特别程序: a supervisor of the handling department stops the clock for a hearing, testing or an appraisal.

    The time it takes does not count towards the limits (行政许可法 第四十五条); the applicant is told why.
    """
    application = Application.objects.select_for_update().select_related("service").filter(pk=application_id).first()
    if application is None or not is_supervisor(supervisor, application.department_id):
        raise NotFound(_("No such application."))
    if not may_be_suspended(application):
        raise Conflict(_("Only an accepted application that is being handled can be suspended."), code="wrong_status")
    reason = reason.strip()
    problems: dict[str, list[str]] = {}
    if procedure not in SPECIAL_PROCEDURES:
        problems["procedure"] = [_("Choose the special procedure.")]
    if not reason:
        problems["reason"] = [_("Give the reason: the applicant is told it.")]
    if problems:
        raise DomainError(_("The special procedure cannot start as asked."), code="validation_error", fields=problems)
    old = application.status
    application.status = Status.SUSPENDED
    application.clock_stopped_at = timezone.now()
    application.save(update_fields=["status", "clock_stopped_at", "updated_at"])
    record_event(
        application,
        Event.SUSPENDED,
        actor=supervisor,
        department_id=application.department_id,
        old_status=old,
        new_status=Status.SUSPENDED,
        note=f"{SPECIAL_PROCEDURES[procedure]}：{reason}",
        details={"procedure": procedure},
    )
    return application


@transaction.atomic
def application_resume(*, application_id: int, supervisor: User) -> Application:
    """The special procedure ended: the clock runs again, and the due dates move on by the working days it took."""
    application = Application.objects.select_for_update().select_related("service").filter(pk=application_id).first()
    if application is None or not is_supervisor(supervisor, application.department_id):
        raise NotFound(_("No such application."))
    if not may_be_resumed(application):
        raise Conflict(_("This application is not in a special procedure."), code="wrong_status")
    stopped = clock_restart(application)
    if stopped:
        for task in application.tasks.filter(status__in=WorkflowTask.OPEN):
            task.due_at = calendar.end_of_working_day(
                calendar.add_working_days(calendar.local_day(task.due_at), stopped)
            )
            task.warned_at = task.escalated_at = None
            task.save(update_fields=["due_at", "warned_at", "escalated_at"])
    application.status = Status.IN_REVIEW
    application.save(update_fields=["status", "due_date", "legal_due_date", "clock_stopped_at", "updated_at"])
    record_event(
        application,
        Event.RESUMED,
        actor=supervisor,
        department_id=application.department_id,
        old_status=Status.SUSPENDED,
        new_status=Status.IN_REVIEW,
        details={"stopped_working_days": stopped},
    )
    return application
