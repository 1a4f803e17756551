"""Routing (并联审批) and the workbench's writes: open stages, claim, decide, join, finish.

Every decision locks the application row first, writes its task's result, and
counts in the database what is still open in the stage; when the stage is
decided it writes an ``Outbox`` row in the same transaction. A ``routing`` task,
sent on commit, processes the row: it opens the next stage, ends the
application, or sends it back. The row is the promise; a beat sweeper sends
rows that are still unprocessed after a minute, and processing one twice
changes nothing (the row is claimed, and a task exists once per stage round).
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts import selectors as account_selectors
from accounts.models import StaffRole, User
from approvals import bundles, workflow
from approvals.actions import outbox_add, outbox_send, record_event, request_supplement_locked
from approvals.models import Application, ApplicationEvent, Outbox, Outcome, WorkflowTask
from core import calendar
from core.errors import Conflict, DomainError, NotFound
from interaction.actions import notify
from services.codes import RegionLevel
from services.models import DayUnit, Department, HandlingType, Region

logger = logging.getLogger(__name__)

Event = ApplicationEvent.Action
Status = Application.Status
SYSTEM = "system:routing"
# 行政许可法: a 补正 request comes within 5 working days of receipt, or the application counts as accepted.
SUPPLEMENT_WINDOW_DAYS = 5
MAX_EXTENSION_DAYS = 10


# --- the outbox ------------------------------------------------------------------

# A worker that takes a routing promise takes up to this many other waiting ones with it, in the same
# transaction: under load the routing queue drains in batches, written in a few statements for all of them;
# when it is quiet each promise is routed alone, as soon as it is sent. The tasks of rows routed in someone
# else's batch find them done with one query.
ROUTING_BATCH = 50


def outbox_process(*, outbox_id: int, batch: int = ROUTING_BATCH) -> int:
    """Route the application of one outbox row and up to ``batch - 1`` waiting rows with it; how many were routed.

    0 means the row was routed already or another worker holds it (and routes it). When a batch fails, its
    rows are routed again one at a time, each in a transaction of its own, so an application that cannot be
    routed holds no other back: a failure is counted on its own row, and raised when it is this call's row.
    """
    if not Outbox.objects.filter(pk=outbox_id, processed_at__isnull=True).exists():
        return 0
    claimed: list[int] = []
    try:
        with transaction.atomic():
            return _route_rows(outbox_id, batch=batch, claimed=claimed)
    except Exception:
        if len(claimed) <= 1:
            raise
        logger.exception("routing a batch of %d outbox rows failed; routing them one at a time", len(claimed))
    routed = 0
    for other_id in claimed:
        if other_id == outbox_id:
            continue
        try:
            with transaction.atomic():
                routed += _route_rows(other_id, batch=1, claimed=[])
        except Exception:
            logger.exception("routing outbox row %d failed", other_id)
            outbox_failed(outbox_id=other_id)
    with transaction.atomic():
        return routed + _route_rows(outbox_id, batch=1, claimed=[])


def _route_rows(outbox_id: int, *, batch: int, claimed: list[int]) -> int:
    rows = list(
        Outbox.objects.select_for_update(skip_locked=True)
        .filter(pk=outbox_id, processed_at__isnull=True)
        .values_list("pk", "application_id")
    )
    if not rows:
        return 0
    if batch > 1:
        # Rows that failed before are left to their own task (and, in the end, to an operator).
        rows.extend(
            Outbox.objects.select_for_update(skip_locked=True)
            .filter(processed_at__isnull=True, attempts=0)
            .exclude(pk=outbox_id)
            .order_by("created_at", "pk")
            .values_list("pk", "application_id")[: batch - 1]
        )
    claimed.extend(pk for pk, _application_id in rows)
    # In id order, so two batches that share an application never wait for each other in a circle.
    applications = (
        Application.objects.select_for_update(of=("self",))
        .select_related("service", "department")
        .filter(pk__in={application_id for _pk, application_id in rows})
        .order_by("pk")
    )
    writes = _Writes()
    for application in applications:
        application_advance(application, writes)
    writes.flush()
    Outbox.objects.filter(pk__in=claimed).update(processed_at=timezone.now(), attempts=F("attempts") + 1)
    return len(claimed)


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


class _Writes:
    """What routing writes, gathered so that a batch of applications costs a few statements.

    Each application row is updated once, new tasks and timeline events are inserted
    in one statement each, in the order they were made. Whatever reads the database
    in between (a bundle counting its open children) flushes first. It also reads the
    holiday table and the departments a rule names once for the whole batch.
    """

    def __init__(self) -> None:
        self.changed: dict[int, tuple[Application, set[str]]] = {}
        self.tasks: list[WorkflowTask] = []
        self.events: list[ApplicationEvent] = []
        self.departments: dict[tuple[Any, ...], tuple[Department, str]] = {}
        self._holidays: calendar.Exceptions | None = None

    @property
    def holidays(self) -> calendar.Exceptions:
        if self._holidays is None:
            self._holidays = calendar.all_exceptions()
        return self._holidays

    def save(self, application: Application, *fields: str) -> None:
        self.changed.setdefault(application.pk, (application, set()))[1].update(fields)

    def event(self, application: Application, action: str, **fields: Any) -> None:
        fields.setdefault("details", {})
        self.events.append(
            ApplicationEvent(application=application, action=action, actor=None, actor_label=SYSTEM, **fields)
        )

    def flush(self) -> None:
        now = timezone.now()
        together: dict[frozenset[str], list[Application]] = {}
        for application, fields in self.changed.values():
            application.updated_at = now
            together.setdefault(frozenset(fields | {"updated_at"}), []).append(application)
        for names, applications in together.items():
            if len(applications) == 1:
                applications[0].save(update_fields=sorted(names))
            else:
                Application.objects.bulk_update(applications, sorted(names))
        WorkflowTask.objects.bulk_create(self.tasks)
        ApplicationEvent.objects.bulk_create(self.events)
        self.changed.clear()
        self.tasks.clear()
        self.events.clear()


# --- where tasks go ----------------------------------------------------------------


def _household_region_code(application: Application) -> str | None:
    """The region code of the applicant's registered household, as the form recorded it."""
    for value in application.data.values():
        if isinstance(value, dict) and isinstance(value.get("region"), str):
            return str(value["region"])
    return None


def _applicant_region(application: Application) -> Region:
    """The applicant's county: their registered household's, else the implementing department's region."""
    code = _household_region_code(application)
    region = Region.objects.filter(code=code).first() if code is not None else None
    return region if region is not None else application.department.region


def _region_at(region: Region, level: int) -> Region | None:
    current: Region | None = region
    while current is not None and current.level > level:
        current = current.parent
    return current if current is not None and current.level == level else None


def resolve_department(application: Application, rule: dict[str, Any]) -> tuple[Department, str]:
    """The department a task rule names for this application, and a note when routing had to fall back."""
    kind = rule.get("rule", "implementing")
    if kind == "fixed":
        department = Department.objects.filter(uscc=rule.get("uscc")).first()
        if department is not None:
            return department, ""
    elif kind == "kind":
        level = workflow.LEVELS.get(str(rule.get("level")), RegionLevel.COUNTY)
        region = _region_at(_applicant_region(application), level)
        department = Department.objects.filter(region=region, kind=rule.get("kind")).first() if region else None
        if department is not None:
            return department, ""
    else:
        return application.department, ""
    # The catalogue named a department this region does not have: its implementing department takes the task.
    return application.department, _("No department of the named kind here; the implementing department handles it.")


def _resolved(application: Application, rule: dict[str, Any], writes: _Writes) -> tuple[Department, str]:
    """``resolve_department``, once per rule and place in a batch."""
    kind = rule.get("rule", "implementing")
    if kind not in ("fixed", "kind"):
        return application.department, ""
    key = (
        kind,
        rule.get("uscc"),
        rule.get("level"),
        rule.get("kind"),
        application.department_id,
        _household_region_code(application) if kind == "kind" else None,
    )
    if key not in writes.departments:
        writes.departments[key] = resolve_department(application, rule)
    return writes.departments[key]


def _working_days(limit: int, unit: str) -> int:
    # A limit in calendar days counts as five working days a week.
    return max(1, round(limit * 5 / 7)) if unit == DayUnit.CALENDAR else limit


def _limit_days(application: Application) -> int:
    """The promised limit (承诺时限) in working days; the statutory one when nothing is promised."""
    item = application.service
    if item.handling_type == HandlingType.IMMEDIATE:
        return 1
    if item.promised_limit:
        return _working_days(item.promised_limit, item.promised_limit_unit)
    return _working_days(item.legal_limit or 20, item.legal_limit_unit)


def _legal_days(application: Application) -> int | None:
    item = application.service
    return _working_days(item.legal_limit, item.legal_limit_unit) if item.legal_limit else None


def _open_stage(application: Application, index: int, writes: _Writes) -> None:
    flow = workflow.parse(application.service.workflow)
    stage = flow.stages[index]
    application.stage_index = index
    application.stage_round += 1
    today = timezone.localdate()
    departments = set()
    # The application row is locked and its round is new: these tasks cannot exist yet (approvals_task_once).
    for task in stage.tasks:
        department, note = _resolved(application, task.department, writes)
        days = workflow.task_working_days(flow, stage, task, _limit_days(application))
        writes.tasks.append(
            WorkflowTask(
                application=application,
                stage_index=index,
                stage_round=application.stage_round,
                task_key=task.key,
                stage_key=stage.key,
                name=task.name,
                department=department,
                allowed_results=list(task.results),
                due_at=calendar.end_of_working_day(calendar.add_working_days(today, days, writes.holidays)),
            )
        )
        departments.add(department.pk)
        if note:
            writes.event(application, Event.ROUTED, note=note, department_id=department.pk)
    writes.save(application, "stage_index", "stage_round")
    if index > 0 and application.status in (Status.SUBMITTED, Status.ACCEPTED):
        old = application.status
        application.status = Status.IN_REVIEW
        writes.save(application, "status")
        writes.event(application, Event.IN_REVIEW, old_status=old, new_status=Status.IN_REVIEW)
    if index == 0 and not stage.accepts and application.accepted_at is None:
        _accept(application, department_id=application.department_id, writes=writes)
    writes.event(application, Event.ROUTED, details={"stage": stage.key, "departments": sorted(departments)})


def _accept(
    application: Application, *, department_id: int | None, writes: _Writes, at: datetime.datetime | None = None
) -> None:
    if application.accepted_at is not None:
        return
    old = application.status
    application.accepted_at = at or timezone.now()
    start = calendar.local_day(application.accepted_at)
    days = _limit_days(application) + application.extended_days
    application.due_date = calendar.add_working_days(start, days, writes.holidays)
    legal_days = _legal_days(application)
    application.legal_due_date = (
        calendar.add_working_days(start, legal_days + application.extended_days, writes.holidays)
        if legal_days
        else None
    )
    writes.save(application, "accepted_at", "due_date", "legal_due_date")
    if application.status == Status.SUBMITTED:
        application.status = Status.ACCEPTED
        writes.save(application, "status")
    writes.event(
        application, Event.ACCEPTED, department_id=department_id, old_status=old, new_status=application.status
    )


def _cancel_open_tasks(application: Application) -> int:
    return application.tasks.filter(status__in=WorkflowTask.OPEN).update(
        status=WorkflowTask.Status.CANCELLED, finished_at=timezone.now()
    )


def _finish(application: Application, *, status: str, outcome: str, department_id: int | None, writes: _Writes) -> None:
    now = timezone.now()
    old = application.status
    application.status = status
    application.outcome = outcome
    application.decided_at = application.decided_at or now
    if status in (Status.APPROVED, Status.REJECTED, Status.NOT_ACCEPTED, Status.REVOKED):
        application.completed_at = now
    writes.save(application, "status", "outcome", "decided_at", "completed_at")
    _cancel_open_tasks(application)
    writes.event(
        application,
        Event.DECIDED,
        department_id=department_id,
        old_status=old,
        new_status=status,
        details={"outcome": outcome},
    )
    if status == Status.APPROVED:
        # Nothing else stands between an approval and its end yet (fees come with [payments]).
        application.status = Status.COMPLETED
        writes.event(application, Event.COMPLETED, old_status=status, new_status=Status.COMPLETED)
    _notify_decided(application)
    _child_finished(application, writes)


def _child_finished(application: Application, writes: _Writes) -> None:
    if application.bundle_application_id is not None:
        writes.flush()  # the bundle counts its children's statuses in the database
        bundles.child_finished(application)


def _notify_decided(application: Application) -> None:
    if application.applicant_id is None:
        return
    with override(None):
        outcome_display = str(Outcome(application.outcome).label) if application.outcome else ""
        service_name = application.service.name
    notify(
        application.applicant_id,
        "application_decided",
        {
            "number": application.number or "",
            "service_name": service_name,
            "url": reverse("approvals:application", kwargs={"number": application.number}),
            "outcome_display": outcome_display,
        },
    )


_DECIDING_RESULTS = {
    workflow.NOT_ACCEPTED: {workflow.NOT_ACCEPT},
    workflow.SUPPLEMENT_NEEDED: {workflow.SUPPLEMENT},
    workflow.RETURNED: {workflow.RETURN},
    workflow.REJECTED: {workflow.REFUSE},
}


def _deciding_department(outcome: str, tasks: list[WorkflowTask]) -> int | None:
    """The department whose result decided the stage: the one that refused, asked or sent back; else the last."""
    done = sorted(
        (task for task in tasks if task.status == WorkflowTask.Status.DONE),
        key=lambda task: (task.finished_at or timezone.now(), task.pk),
    )
    deciding = [task for task in done if task.result in _DECIDING_RESULTS.get(outcome, set())]
    chosen = deciding[0] if deciding else (done[-1] if done else None)
    return chosen.department_id if chosen is not None else None


def application_advance(application: Application, writes: _Writes) -> None:
    """Move a locked application on from where its workflow stands (idempotent); ``writes`` holds the writes."""
    flow = workflow.parse(application.service.workflow)
    if application.status in Application.FINAL or application.status == Status.DRAFT:
        _cancel_open_tasks(application)
        return
    if application.stage_index is None:
        _start(application, flow, writes)
        return
    stage = flow.stages[application.stage_index]
    tasks = list(
        application.tasks.filter(stage_index=application.stage_index, stage_round=application.stage_round)
        .exclude(status=WorkflowTask.Status.CANCELLED)
        .order_by("pk")
    )
    outcome = workflow.stage_outcome(
        stage, [task.result if task.status == WorkflowTask.Status.DONE else None for task in tasks]
    )
    if outcome == workflow.OPEN:
        return
    department_id = _deciding_department(outcome, tasks)
    if outcome == workflow.SUPPLEMENT_NEEDED:
        if application.status == Status.SUPPLEMENT_REQUESTED:
            _cancel_open_tasks(application)
            return  # the applicant's answer routes it again
        _open_stage(application, application.stage_index, writes)
    elif outcome == workflow.NOT_ACCEPTED:
        _finish(
            application,
            status=Status.NOT_ACCEPTED,
            outcome=Outcome.NOT_ACCEPTED,
            department_id=department_id,
            writes=writes,
        )
    elif outcome == workflow.REJECTED:
        if application.status == Status.APPROVED:
            _revoke(application, department_id=department_id, writes=writes)
        else:
            _finish(
                application, status=Status.REJECTED, outcome=Outcome.REFUSED, department_id=department_id, writes=writes
            )
    elif outcome == workflow.RETURNED:
        _cancel_open_tasks(application)
        _open_stage(application, max(0, application.stage_index - 1), writes)
    else:
        _cancel_open_tasks(application)  # a quorum was reached: the others need not decide
        if stage.accepts:
            _accept(application, department_id=department_id, writes=writes)
        if application.stage_index + 1 < len(flow.stages):
            _open_stage(application, application.stage_index + 1, writes)
        elif application.status == Status.APPROVED:
            # 信任在先: the verification after the approval agreed.
            application.status = Status.COMPLETED
            application.completed_at = timezone.now()
            writes.save(application, "status", "completed_at")
            writes.event(
                application,
                Event.COMPLETED,
                department_id=department_id,
                old_status=Status.APPROVED,
                new_status=Status.COMPLETED,
                details={"verified": True},
            )
            _child_finished(application, writes)
        else:
            _finish(
                application, status=Status.APPROVED, outcome=Outcome.ISSUED, department_id=department_id, writes=writes
            )


def _start(application: Application, flow: workflow.Workflow, writes: _Writes) -> None:
    if flow.is_instant:
        # 即办件: decided when submitted; the department's record of it is the event.
        application.stage_index = 0
        writes.save(application, "stage_index")
        _accept(application, department_id=application.department_id, writes=writes)
        _finish(
            application,
            status=Status.APPROVED,
            outcome=Outcome.ISSUED,
            department_id=application.department_id,
            writes=writes,
        )
        return
    if flow.is_trust_first:
        # 信任在先 (4★): approved on submission; the workflow's stages verify afterwards.
        _accept(application, department_id=application.department_id, writes=writes)
        old = application.status
        application.status = Status.APPROVED
        application.decided_at = timezone.now()
        application.outcome = Outcome.ISSUED
        writes.save(application, "status", "decided_at", "outcome")
        writes.event(
            application,
            Event.APPROVED_ON_TRUST,
            department_id=application.department_id,
            old_status=old,
            new_status=Status.APPROVED,
        )
        _notify_decided(application)
    _open_stage(application, 0, writes)


def _revoke(application: Application, *, department_id: int | None, writes: _Writes) -> None:
    old = application.status
    application.status = Status.REVOKED
    application.outcome = Outcome.VOID
    application.completed_at = timezone.now()
    writes.save(application, "status", "outcome", "completed_at")
    _cancel_open_tasks(application)
    writes.event(application, Event.REVOKED, department_id=department_id, old_status=old, new_status=Status.REVOKED)
    _notify_decided(application)
    _child_finished(application, writes)


# --- the workbench ---------------------------------------------------------------


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
    if task is None or StaffRole.SUPERVISOR not in _membership_roles(supervisor, task.department_id):
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


@transaction.atomic
def application_extend(*, application_id: int, supervisor: User, days: int, reason: str) -> Application:
    """延长审批: a supervisor of the handling department extends the time limit, at most 10 working days in all."""
    application = Application.objects.select_for_update().filter(pk=application_id).first()
    if application is None or StaffRole.SUPERVISOR not in _membership_roles(supervisor, application.department_id):
        raise NotFound(_("No such application."))
    if application.status not in (Status.ACCEPTED, Status.IN_REVIEW, Status.SUSPENDED) or application.due_date is None:
        raise Conflict(_("Only an accepted application that is being handled can be extended."), code="wrong_status")
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
    if application.applicant_id is not None:
        with override(None):
            service_name = application.service.name
        notify(
            application.applicant_id,
            "application_extended",
            {
                "number": application.number or "",
                "service_name": service_name,
                "url": reverse("approvals:application", kwargs={"number": application.number}),
                "days": days,
                "due_date": application.due_date.isoformat(),
                "reason": reason,
            },
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
    if application is None or StaffRole.SUPERVISOR not in _membership_roles(supervisor, application.department_id):
        raise NotFound(_("No such application."))
    if application.status not in (Status.ACCEPTED, Status.IN_REVIEW):
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
    if application is None or StaffRole.SUPERVISOR not in _membership_roles(supervisor, application.department_id):
        raise NotFound(_("No such application."))
    if application.status != Status.SUSPENDED:
        raise Conflict(_("This application is not in a special procedure."), code="wrong_status")
    stopped = 0
    if application.clock_stopped_at is not None:
        stopped = calendar.working_days_between(calendar.local_day(application.clock_stopped_at), timezone.localdate())
    if stopped:
        if application.due_date is not None:
            application.due_date = calendar.add_working_days(application.due_date, stopped)
        if application.legal_due_date is not None:
            application.legal_due_date = calendar.add_working_days(application.legal_due_date, stopped)
        for task in application.tasks.filter(status__in=WorkflowTask.OPEN):
            task.due_at = calendar.end_of_working_day(
                calendar.add_working_days(calendar.local_day(task.due_at), stopped)
            )
            task.warned_at = task.escalated_at = None
            task.save(update_fields=["due_at", "warned_at", "escalated_at"])
    application.status = Status.IN_REVIEW
    application.clock_stopped_at = None
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


# --- sweeps -------------------------------------------------------------------------


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
            writes = _Writes()
            writes.save(application, "is_deemed_accepted")
            _accept(application, department_id=application.department_id, writes=writes, at=received_at)
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
        running = tasks.filter(status__in=WorkflowTask.OPEN).exclude(
            application__status__in=(Status.SUSPENDED, Status.SUPPLEMENT_REQUESTED)
        )
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
