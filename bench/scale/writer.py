"""Synthetic applications written with PostgreSQL's COPY: each with its 办件编号 and query password,
its timeline (events), its workflow tasks, outbox rows and attachments, as routing would leave them.

A batch is one transaction, so an interrupted run keeps what it wrote and the next
run adds only what is missing.
"""

from __future__ import annotations

import datetime
import io
import json
import math
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from approvals.applications.numbering import QUERY_PASSWORD_PURPOSE
from approvals.models import Application, ApplicationEvent, Attachment, Channel, Outbox, Outcome, WorkflowTask
from approvals.workflow import ACCEPT, APPROVE, NOT_ACCEPT, REFUSE, SUPPLEMENT
from bench.scale.plans import (
    ACCEPTING,
    APPLICATIONS_PER_APPLICANT,
    COMPLETED,
    DRAFT,
    NOT_ACCEPTED,
    OPEN_FATES,
    REJECTED,
    SCALE,
    SUPPLEMENT_ASKED,
    UNROUTED,
    WITHDRAWN,
    ApplicationPlan,
    ApplicationSet,
    ScaleError,
    StagePlan,
    TaskPlan,
    applicable_items,
    choose_fate,
    ensure_applicants,
    query_password,
)
from core import calendar, crypto
from datahub.identity import IdentityType

Status = Application.Status
Event = ApplicationEvent.Action
SYSTEM = "system:routing"

# --- COPY ---------------------------------------------------------------------------------


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_to_json = json.JSONEncoder(ensure_ascii=False).encode


def _escaped(text: str) -> str:
    return text.translate(_COPY_ESCAPES)


def _text(value: Any) -> str:
    """One value in COPY's text format (the common types first: a million rows go through here)."""
    kind = type(value)
    if kind is str:
        return _escaped(value)
    if value is None:
        return "\\N"
    if kind is int or kind is uuid.UUID:
        return str(value)
    if kind is datetime.datetime or kind is datetime.date:
        return value.isoformat()
    if kind is bool:
        return "t" if value else "f"
    if kind is dict or kind is list or kind is tuple:
        return _escaped(_to_json(value))
    return _escaped(str(value))  # a TextChoices member, a float


class _Copy:
    """Rows of one table for one COPY: the given columns, every other one at its model default."""

    def __init__(self, model: type[models.Model], attnames: Sequence[str], *, with_pk: bool) -> None:
        fields = [each for each in model._meta.concrete_fields if with_pk or not each.primary_key]
        self.table = model._meta.db_table
        self.columns = [each.column for each in fields]
        attnames_of = [each.attname for each in fields]
        unknown = set(attnames) - set(attnames_of)
        if unknown:
            raise ValueError(f"{model.__name__} has no fields {sorted(unknown)}")
        # Django's own default of each field: "" for text, {} for JSON, False for flags, NULL where it has none.
        self.template = ["\\N" if each.primary_key else _text(each.get_default()) for each in fields]
        self.positions = [attnames_of.index(name) for name in attnames]
        self.buffer = io.StringIO()
        self.count = 0

    def add(self, *values: Any) -> None:
        row = list(self.template)
        for position, value in zip(self.positions, values, strict=True):
            row[position] = _text(value)
        self.buffer.write("\t".join(row))
        self.buffer.write("\n")
        self.count += 1

    def write(self) -> None:
        if not self.count:
            return
        self.buffer.seek(0)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(column) for column in self.columns)
        with connection.cursor() as cursor:
            cursor.copy_expert(f"COPY {quote(self.table)} ({columns}) FROM STDIN", self.buffer)


def _new_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` primary keys taken from the table's sequence."""
    if count == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


APPLICATION_FIELDS = (
    "id",
    "public_id",
    "number",
    "query_password_hash",
    "query_password_encrypted",
    "applicant_id",
    "applicant_name",
    "applicant_id_type",
    "applicant_id_masked",
    "service_id",
    "implementation_code",
    "department_id",
    "channel",
    "data",
    "prefilled",
    "supplement_request",
    "status",
    "stage_index",
    "stage_round",
    "outcome",
    "created_at",
    "updated_at",
    "draft_expires_at",
    "submitted_at",
    "accepted_at",
    "is_deemed_accepted",
    "due_date",
    "legal_due_date",
    "clock_stopped_at",
    "decided_at",
    "completed_at",
    "withdrawn_at",
)
EVENT_FIELDS = (
    "application_id",
    "action",
    "actor_id",
    "actor_label",
    "department_id",
    "old_status",
    "new_status",
    "details",
    "at",
)
TASK_FIELDS = (
    "application_id",
    "stage_index",
    "stage_key",
    "stage_round",
    "task_key",
    "name",
    "department_id",
    "allowed_results",
    "status",
    "result",
    "started_at",
    "due_at",
    "finished_at",
    "warned_at",
    "escalated_at",
)
OUTBOX_FIELDS = ("id", "kind", "application_id", "created_at")
ATTACHMENT_FIELDS = (
    "public_id",
    "application_id",
    "material_code",
    "storage_key",
    "content_type",
    "size",
    "sha256",
    "original_name",
    "uploaded_by_id",
    "created_at",
)

MINUTE = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


@dataclass
class Written:
    application_ids: list[int]
    outbox_ids: list[int]


class _Writer:
    """Turns plans into rows of applications, events, tasks, outbox rows and attachments."""

    def __init__(self, application_set: ApplicationSet, now: datetime.datetime, count: int) -> None:
        self.set = application_set
        self.now = now
        # What the deadline sweep (routing.deadlines_sweep) counts as due soon: by the end of the next working day.
        self.due_soon = calendar.end_of_working_day(calendar.add_working_days(timezone.localdate(), 1))
        # Synthetic data, not a secret: the same plans give the same rows.
        self.randomiser = random.Random(application_set.code * 1_000_003 + count)
        self.applications = _Copy(Application, APPLICATION_FIELDS, with_pk=True)
        self.events = _Copy(ApplicationEvent, EVENT_FIELDS, with_pk=False)
        self.tasks = _Copy(WorkflowTask, TASK_FIELDS, with_pk=False)
        self.outbox = _Copy(Outbox, OUTBOX_FIELDS, with_pk=True)
        self.attachments = _Copy(Attachment, ATTACHMENT_FIELDS, with_pk=False)
        self.passwords: dict[str, str] = {}
        self.outbox_ids: list[int] = []  # taken from the sequence for this batch, used from the end
        self.written_outbox: list[int] = []

    def _encrypted_password(self, password: str) -> str:
        if password not in self.passwords:
            self.passwords[password] = crypto.encrypt(password)
        return self.passwords[password]

    def _submitted_at(self, serial: int) -> datetime.datetime:
        day = self.set.number_day(serial)
        # 08:00 to 18:00 Asia/Shanghai (00:00 to 10:00 UTC), spread over the day's numbers.
        seconds = (serial % self.set.per_day) * 36_000 // self.set.per_day
        midnight = datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)
        return midnight + datetime.timedelta(seconds=seconds)

    def _event(
        self,
        application_id: int,
        action: str,
        at: datetime.datetime,
        *,
        actor_id: int | None = None,
        department_id: int | None = None,
        old: str = "",
        new: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        label = "" if actor_id is not None or action == Event.TASK_DONE else SYSTEM
        self.events.add(application_id, action, actor_id, label, department_id, old, new, details or {}, at)

    def _task(
        self,
        application_id: int,
        index: int,
        stage: StagePlan,
        task: TaskPlan,
        started: datetime.datetime,
        *,
        status: str,
        result: str = "",
        finished: datetime.datetime | None = None,
    ) -> None:
        due = started + task.days * 7 // 5 * DAY
        warned = escalated = None
        if status == WorkflowTask.Status.PENDING:
            # A waiting task is due from five days ago to fifteen days ahead; 黄灯 and 红灯 count as told already
            # (by the deadline sweep's own rule), so that seeding never makes the sweep notify anyone.
            due = self.now + datetime.timedelta(hours=self.randomiser.uniform(-5 * 24, 15 * 24))
            warned = self.now if due <= self.due_soon else None
            escalated = self.now if due < self.now else None
        self.tasks.add(
            application_id,
            index,
            stage.key,
            1,
            task.key,
            task.name,
            task.department_id,
            task.results,
            status,
            result,
            started,
            due,
            finished,
            warned,
            escalated,
        )

    def _result(self, fate: str, task: TaskPlan, *, is_deciding: bool) -> str:
        """The result a done task gave: agreement, or the deciding task's refusal, 不予受理 or 补正."""
        if is_deciding:
            if fate == NOT_ACCEPTED and NOT_ACCEPT in task.results:
                return NOT_ACCEPT
            if fate == SUPPLEMENT_ASKED and SUPPLEMENT in task.results:
                return SUPPLEMENT
            if fate in (REJECTED, NOT_ACCEPTED) and REFUSE in task.results:
                return REFUSE
        return ACCEPT if ACCEPT in task.results else APPROVE

    def add(self, plan: ApplicationPlan, application_id: int) -> None:
        if plan.fate == DRAFT:
            self._add_draft(plan, application_id)
            return
        item, fate = plan.item, plan.fate
        submitted = self._submitted_at(plan.serial)
        number = self.set.number(item.implementation_code, plan.serial)
        password = query_password(plan.serial)
        self._event(
            application_id,
            Event.SUBMITTED,
            submitted,
            actor_id=plan.applicant_id,
            old=Status.DRAFT,
            new=Status.SUBMITTED,
        )
        status: str = Status.SUBMITTED
        stage_index: int | None = None
        outcome = ""
        accepted_at: datetime.datetime | None = None
        decided_at: datetime.datetime | None = None
        withdrawn_at: datetime.datetime | None = None
        clock_stopped_at: datetime.datetime | None = None
        is_deemed_accepted = False
        supplement_request: dict[str, Any] = {}
        at = submitted + 2 * MINUTE
        if fate == UNROUTED:
            outbox_id = self.outbox_ids.pop()
            self.outbox.add(outbox_id, Outbox.Kind.ROUTE, application_id, submitted)
            self.written_outbox.append(outbox_id)
        else:
            # The stage the application stands at: the first for what ended or waits at acceptance, else the last.
            stop_at = 0 if fate in (ACCEPTING, NOT_ACCEPTED, SUPPLEMENT_ASKED, WITHDRAWN) else len(item.stages) - 1
            for index, stage in enumerate(item.stages[: stop_at + 1]):
                stage_index = index
                is_current = index == stop_at
                departments = sorted({task.department_id for task in stage.tasks})
                self._event(application_id, Event.ROUTED, at, details={"stage": stage.key, "departments": departments})
                if index == 1 and status in (Status.SUBMITTED, Status.ACCEPTED):
                    self._event(application_id, Event.IN_REVIEW, at, old=status, new=Status.IN_REVIEW)
                    status = Status.IN_REVIEW
                if index == 0 and not stage.accepts:
                    accepted_at = at
                    self._event(
                        application_id,
                        Event.ACCEPTED,
                        at,
                        department_id=item.department_id,
                        old=status,
                        new=Status.ACCEPTED,
                    )
                    status = Status.ACCEPTED
                for position, task in enumerate(stage.tasks):
                    if is_current and fate in OPEN_FATES:
                        self._task(application_id, index, stage, task, at, status=WorkflowTask.Status.PENDING)
                    elif is_current and fate == WITHDRAWN:
                        self._task(
                            application_id,
                            index,
                            stage,
                            task,
                            at,
                            status=WorkflowTask.Status.CANCELLED,
                            finished=at + DAY,
                        )
                    else:
                        result = self._result(fate, task, is_deciding=is_current and position == 0)
                        finished = at + HOUR * (2 + position)
                        self._task(
                            application_id,
                            index,
                            stage,
                            task,
                            at,
                            status=WorkflowTask.Status.DONE,
                            result=result,
                            finished=finished,
                        )
                        self._event(
                            application_id,
                            Event.TASK_DONE,
                            finished,
                            department_id=task.department_id,
                            details={"task": task.name, "result": result, "stage": stage.key},
                        )
                at += DAY
                if stage.accepts and accepted_at is None and (not is_current or fate == COMPLETED):
                    accepted_at = at
                    self._event(
                        application_id,
                        Event.ACCEPTED,
                        at,
                        department_id=item.department_id,
                        old=status,
                        new=Status.ACCEPTED,
                    )
                    status = Status.ACCEPTED
            if fate == ACCEPTING and accepted_at is None:
                # Waiting at acceptance for more than 5 working days without a 补正: deemed accepted on receipt,
                # as the hourly sweep leaves it (its task stays in the queue).
                accepted_at, is_deemed_accepted = submitted, True
                self._event(
                    application_id,
                    Event.ACCEPTED,
                    submitted + 7 * DAY,
                    department_id=item.department_id,
                    old=status,
                    new=Status.ACCEPTED,
                )
                status = Status.ACCEPTED
            if fate == COMPLETED:
                decided_at = at
                self._event(
                    application_id,
                    Event.DECIDED,
                    at,
                    department_id=item.department_id,
                    old=status,
                    new=Status.APPROVED,
                    details={"outcome": Outcome.ISSUED},
                )
                self._event(application_id, Event.COMPLETED, at, old=Status.APPROVED, new=Status.COMPLETED)
                status, outcome = Status.COMPLETED, Outcome.ISSUED
            elif fate in (REJECTED, NOT_ACCEPTED):
                final = Status.NOT_ACCEPTED if fate == NOT_ACCEPTED else Status.REJECTED
                outcome = Outcome.NOT_ACCEPTED if fate == NOT_ACCEPTED else Outcome.REFUSED
                decided_at = at
                self._event(
                    application_id,
                    Event.DECIDED,
                    at,
                    department_id=item.department_id,
                    old=status,
                    new=final,
                    details={"outcome": outcome},
                )
                status = final
            elif fate == WITHDRAWN:
                withdrawn_at = at
                self._event(
                    application_id, Event.WITHDRAWN, at, actor_id=plan.applicant_id, old=status, new=Status.WITHDRAWN
                )
                status = Status.WITHDRAWN
            elif fate == SUPPLEMENT_ASKED:
                clock_stopped_at = at
                supplement_request = {"fields": [], "materials": ["application_form"], "note": "请补充签字后的申请表。"}
                self._event(
                    application_id,
                    Event.SUPPLEMENT_REQUESTED,
                    at,
                    department_id=item.department_id,
                    old=status,
                    new=Status.SUPPLEMENT_REQUESTED,
                )
                status = Status.SUPPLEMENT_REQUESTED
        due_date = legal_due_date = None
        if accepted_at is not None:
            due_date = (accepted_at + item.limit_days * 7 // 5 * DAY).date()
            if item.legal_days:
                legal_due_date = (accepted_at + item.legal_days * 7 // 5 * DAY).date()
        self.applications.add(
            application_id,
            self.set.public_id(plan.serial),
            number,
            crypto.keyed_hash(f"{number}:{password}", purpose=QUERY_PASSWORD_PURPOSE),
            self._encrypted_password(password),
            plan.applicant_id,
            plan.applicant_name,
            IdentityType.RESIDENT_ID,
            "3****************0",
            item.id,
            item.implementation_code,
            item.department_id,
            Channel.MOBILE if plan.serial % 3 == 0 else Channel.PC,
            plan.data,
            plan.prefilled,
            supplement_request,
            status,
            stage_index,
            0 if stage_index is None else 1,
            outcome,
            submitted - 10 * MINUTE,  # created: the draft was started a little before
            max(at, submitted),  # updated
            None,  # draft_expires_at
            submitted,
            accepted_at,
            is_deemed_accepted,
            due_date,
            legal_due_date,
            clock_stopped_at,
            decided_at,
            decided_at,  # completed_at: a decision ends a synthetic application (no fees yet)
            withdrawn_at,
        )

    def _add_draft(self, plan: ApplicationPlan, application_id: int) -> None:
        created = self.now - datetime.timedelta(minutes=30 + plan.serial % 600)
        self._event(application_id, Event.CREATED, created, actor_id=plan.applicant_id, new=Status.DRAFT)
        for code in plan.attachments:
            self.attachments.add(
                uuid.uuid4(),
                application_id,
                code,
                uuid.uuid4().hex,
                "application/pdf",
                2048,
                "0" * 64,
                f"{code}.pdf",
                plan.applicant_id,
                created,
            )
        self.applications.add(
            application_id,
            self.set.public_id(plan.serial),
            None,  # a draft has no number
            "",
            "",
            plan.applicant_id,
            "",
            "",
            "",
            plan.item.id,
            plan.item.implementation_code,
            plan.item.department_id,
            Channel.MOBILE,
            plan.data,
            plan.prefilled,
            {},
            Status.DRAFT,
            None,
            0,
            "",
            created,
            created,
            self.now + datetime.timedelta(days=settings.DRAFT_TTL_DAYS),
            None,  # submitted_at
            None,  # accepted_at
            False,  # is_deemed_accepted
            None,
            None,
            None,
            None,
            None,
            None,
        )

    def write(self, plans: Sequence[ApplicationPlan]) -> Written:
        application_ids = _new_ids(Application, len(plans))
        self.outbox_ids = list(reversed(_new_ids(Outbox, sum(1 for plan in plans if plan.fate == UNROUTED))))
        for plan, application_id in zip(plans, application_ids, strict=True):
            self.add(plan, application_id)
        # Parents first: the foreign keys are checked row by row.
        self.applications.write()
        self.events.write()
        self.tasks.write()
        self.outbox.write()
        self.attachments.write()
        return Written(application_ids=application_ids, outbox_ids=self.written_outbox)


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        raise ScaleError(
            "Synthetic applications are written with PostgreSQL's COPY; on SQLite a million would take hours "
            "and lock the file for the whole time. Point DATABASE_URL at PostgreSQL "
            "(postgres://user@host:5432/name) to seed applications."
        )


def write_applications(
    plans: Sequence[ApplicationPlan], *, application_set: ApplicationSet, now: datetime.datetime | None = None
) -> Written:
    """Write the planned applications with their events, tasks, outbox rows and attachments, in one transaction."""
    require_postgresql()
    if plans:
        last_day = application_set.number_day(max(plan.serial for plan in plans))
        if last_day >= timezone.localdate():
            raise ScaleError(
                f"Synthetic application numbers of set {application_set.code} would reach {last_day:%Y-%m-%d}: "
                "numbers are dated before today so that they never take a real submission's number."
            )
    with transaction.atomic():
        return _Writer(application_set, now or timezone.now(), len(plans)).write(plans)


def top_up_applications(*, target: int, batch_size: int = 10_000, progress: Callable[[int], None] | None = None) -> int:
    """Add synthetic applications until the command's set holds ``target``; returns how many were added."""
    require_postgresql()
    existing = SCALE.applications().count()
    missing = target - existing
    if missing <= 0:
        return 0
    items = applicable_items()
    if not items:
        raise ScaleError("No published item can be applied for: seed the catalogue first (--items).")
    applicants = ensure_applicants(max(1, math.ceil(target / APPLICATIONS_PER_APPLICANT)))
    first = SCALE.next_serial()
    added = 0
    while added < missing:
        serials = range(first + added, first + min(missing, added + batch_size))
        randomiser = random.Random(serials[0])  # synthetic data, not a secret
        plans = []
        for serial in serials:
            # A multiplicative hash spreads neighbouring serials over items and applicants.
            item = items[(serial * 2_654_435_761) % len(items)]
            applicant_id, applicant_name = applicants[(serial * 40_503) % len(applicants)]
            plans.append(
                ApplicationPlan(
                    serial=serial,
                    item=item,
                    applicant_id=applicant_id,
                    applicant_name=applicant_name,
                    fate=choose_fate(randomiser, item),
                    data={"reason": "本人申请", "phone": f"138{serial % 100_000_000:08d}"},
                )
            )
        write_applications(plans, application_set=SCALE)
        added += len(plans)
        if progress:
            progress(len(plans))
    with connection.cursor() as cursor:
        # What autovacuum does soon after a bulk load: statistics for the planner.
        for model in (Application, ApplicationEvent, WorkflowTask):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return added
