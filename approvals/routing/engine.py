"""The routing engine: open stages, join their results, accept, finish or send back an application.

Every decision locks the application row first, writes its task's result, and
counts in the database what is still open in the stage; when the stage is
decided it writes an ``Outbox`` row in the same transaction. A ``routing`` task,
sent on commit, processes the row: it opens the next stage, ends the
application, or sends it back. The row is the promise; a beat sweeper sends
rows that are still unprocessed after a minute, and processing one twice
changes nothing (the row is claimed, and a task exists once per stage round).

When a child of a bundle ends, routing calls the ``bundle_child_finished`` hooks: bundles, a part above
routing, connects its handler there at start-up (``approvals.apps``), so routing never imports it.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from approvals import workflow
from approvals.document_numbers import number_document
from approvals.journal import notify_applicant
from approvals.models import Application, ApplicationEvent, Outbox, Outcome, WorkflowTask
from approvals.outbox import outbox_failed
from core import calendar
from core.registry import Hooks
from services.codes import RegionLevel
from services.models import DayUnit, Department, HandlingType, Region

logger = logging.getLogger(__name__)

Event = ApplicationEvent.Action

Status = Application.Status

SYSTEM = "system:routing"

# A child of a bundle ended (decided, revoked, completed after verification, withdrawn): called in the
# transaction that ended it, with the child's row locked. Bundles connect here to complete themselves.
bundle_child_finished: Hooks[[Application]] = Hooks("approvals.bundle_child_finished")

# --- routing the outbox's rows ---------------------------------------------------

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
    writes = Writes()
    for application in applications:
        application_advance(application, writes)
    writes.flush()
    Outbox.objects.filter(pk__in=claimed).update(processed_at=timezone.now(), attempts=F("attempts") + 1)
    return len(claimed)


class Writes:
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
        for event in self.events:
            number_document(event)  # a decision routing records is numbered once, as the journal numbers the rest
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


def _resolved(application: Application, rule: dict[str, Any], writes: Writes) -> tuple[Department, str]:
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


def _open_stage(application: Application, index: int, writes: Writes) -> None:
    flow = workflow.parse(application.service.workflow)
    stage = flow.stages[index]
    application.stage_index = index
    application.stage_round += 1
    departments = set()
    opened: list[tuple[WorkflowTask, workflow.TaskDef]] = []
    # The application row is locked and its round is new: these tasks cannot exist yet (approvals_task_once).
    for task in stage.tasks:
        department, note = _resolved(application, task.department, writes)
        row = WorkflowTask(
            application=application,
            stage_index=index,
            stage_round=application.stage_round,
            task_key=task.key,
            stage_key=stage.key,
            name=task.name,
            department=department,
            allowed_results=list(task.results),
        )
        writes.tasks.append(row)
        opened.append((row, task))
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
        accept(application, department_id=application.department_id, writes=writes)
    for row, task in opened:
        row.due_at = calendar.end_of_working_day(_task_due_day(application, flow, index, task, writes))
    writes.event(application, Event.ROUTED, details={"stage": stage.key, "departments": sorted(departments)})


def _task_due_day(
    application: Application, flow: workflow.Workflow, index: int, task: workflow.TaskDef, writes: Writes
) -> datetime.date:
    """When a task opened today falls due: its stage's place in the time limit, never before today.

    Before acceptance the limit has not started: a task of the accepting stage gets its
    share counted from today. After it, the due dates are counted back from the
    application's due date (``workflow.working_days_before_due``), so they follow the
    stage order and the last stage ends on the application's due date; a stage opened
    late, after the previous one overran, is due no earlier than today.
    """
    today = timezone.localdate()
    limit = _limit_days(application)
    if application.due_date is None:
        days = workflow.task_working_days(flow, flow.stages[index], task, limit)
        return calendar.add_working_days(today, days, writes.holidays)
    back = workflow.working_days_before_due(flow, index, task, limit + application.extended_days)
    return max(today, calendar.subtract_working_days(application.due_date, back, writes.holidays))


def accept(
    application: Application, *, department_id: int | None, writes: Writes, at: datetime.datetime | None = None
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


def _finish(application: Application, *, status: str, outcome: str, department_id: int | None, writes: Writes) -> None:
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


def _child_finished(application: Application, writes: Writes) -> None:
    if application.bundle_application_id is not None:
        writes.flush()  # the bundle counts its children's statuses in the database
        bundle_child_finished.call(application)


def _notify_decided(application: Application) -> None:
    with override(None):
        outcome_display = str(Outcome(application.outcome).label) if application.outcome else ""
    notify_applicant(application, "application_decided", outcome_display=outcome_display)


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


def application_advance(application: Application, writes: Writes) -> None:
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
            accept(application, department_id=department_id, writes=writes)
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


def _start(application: Application, flow: workflow.Workflow, writes: Writes) -> None:
    if flow.is_instant:
        # 即办件: decided when submitted; the department's record of it is the event.
        application.stage_index = 0
        writes.save(application, "stage_index")
        accept(application, department_id=application.department_id, writes=writes)
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
        accept(application, department_id=application.department_id, writes=writes)
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


def _revoke(application: Application, *, department_id: int | None, writes: Writes) -> None:
    old = application.status
    application.status = Status.REVOKED
    application.outcome = Outcome.VOID
    application.completed_at = timezone.now()
    writes.save(application, "status", "outcome", "completed_at")
    _cancel_open_tasks(application)
    writes.event(application, Event.REVOKED, department_id=department_id, old_status=old, new_status=Status.REVOKED)
    _notify_decided(application)
    _child_finished(application, writes)
