"""Fill the catalogue and the approvals with synthetic data, for load tests and benchmarks.

``--items N`` tops the catalogue up to N synthetic published items (``services.demo``).
``--applications N`` tops the approvals up to N synthetic applications (办件): each
with its 办件编号 and query password, its timeline (events) and its workflow tasks,
over every applicable published item (so every department), in the statuses a year
of a province's work leaves (most completed; some refused, not accepted or
withdrawn; the rest open in a department's queue). They are written with
PostgreSQL's COPY, a batch per transaction, so an interrupted run keeps what it
wrote and the next run adds only what is missing.

Synthetic applications are recognised by their ``public_id``: a reserved range of
UUIDs, one sub-range per set (this command's, and the sets the benchmarks add for
themselves), holding the application's serial number. Their 办件编号 are dated on
days before today (a set has its own days), so they never take a number a real
submission would. Their applicants are synthetic users (``scale-applicant-…``) who
cannot log in (no usable password).

This module lends its writer to ``bench/`` (the benchmarks' own sets of applications).
The catalogue app reaching into approvals is a tool's licence: nothing at run time
depends on it.
"""

from __future__ import annotations

import datetime
import io
import json
import math
import random
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.utils import timezone
from tqdm import tqdm

from accounts.models import RealNameLevel, User
from approvals.applications.numbering import QUERY_PASSWORD_PURPOSE
from approvals.models import Application, ApplicationEvent, Attachment, Channel, Outbox, Outcome, WorkflowTask
from approvals.workflow import ACCEPT, APPROVE, NOT_ACCEPT, REFUSE, SUPPLEMENT, parse
from core import calendar, crypto
from datahub.identity import IdentityType
from services.demo import seed_catalogue, synthetic_item_count, top_up_synthetic_items
from services.models import Department, HandlingType, ItemType, Region, ServiceItem
from services.workflow_rules import LEVELS

Status = Application.Status
Event = ApplicationEvent.Action
SYSTEM = "system:routing"

# --- which applications are synthetic ------------------------------------------------

# The top 32 bits of every synthetic application's public_id; the next 32 name its set, the last 64 its serial.
SYNTHETIC_UUID_PREFIX = 0x5CA1E000
MAX_SEQUENCE = 9999  # the four digits of a 办件编号's daily sequence


@dataclass(frozen=True)
class ApplicationSet:
    """A family of synthetic applications: its own public_id range and its own days for 办件编号."""

    code: int
    first_day: datetime.date  # the day of serial 0's number
    per_day: int  # applications numbered per day (at most 9,999: the sequence has four digits)

    def __post_init__(self) -> None:
        if not 1 <= self.per_day <= MAX_SEQUENCE:
            raise ValueError(f"a set numbers 1 to {MAX_SEQUENCE} applications a day")

    def public_id(self, serial: int) -> uuid.UUID:
        return uuid.UUID(int=(SYNTHETIC_UUID_PREFIX << 96) | (self.code << 64) | serial)

    def bounds(self) -> tuple[uuid.UUID, uuid.UUID]:
        """The lowest and highest public_id of the set."""
        return self.public_id(0), self.public_id((1 << 64) - 1)

    def serial_of(self, public_id: uuid.UUID) -> int:
        return public_id.int & ((1 << 64) - 1)

    def number_day(self, serial: int) -> datetime.date:
        return self.first_day + datetime.timedelta(days=serial // self.per_day)

    def number(self, implementation_code: str, serial: int) -> str:
        """办件编号: 实施编码 + yyyymmdd + sequence; (day, sequence) differs for every serial of the set."""
        return f"{implementation_code}{self.number_day(serial):%Y%m%d}{serial % self.per_day + 1:04d}"

    def applications(self) -> models.QuerySet[Application]:
        low, high = self.bounds()
        return Application.objects.filter(public_id__gte=low, public_id__lte=high)

    def next_serial(self) -> int:
        # PostgreSQL has no max() of uuid; the unique index gives the highest at once.
        highest = self.applications().order_by("-public_id").values_list("public_id", flat=True).first()
        return self.serial_of(highest) + 1 if highest is not None else 0


# This command's applications; the benchmarks' sets (bench/fixtures.py) have days of their own before these.
SCALE = ApplicationSet(code=0, first_day=datetime.date(2023, 1, 1), per_day=MAX_SEQUENCE)
APPLICATIONS_PER_APPLICANT = 20
APPLICANT_PREFIX = "scale-applicant-"
# Query passwords of synthetic applications come from a small pool, so that each is encrypted once.
PASSWORD_POOL = 997


def query_password(serial: int) -> str:
    """The query password of a synthetic application (the benchmarks track with it)."""
    return f"{(serial % PASSWORD_POOL) * 1009 % 1_000_000:06d}"


# --- what can be applied for ------------------------------------------------------------


@dataclass(frozen=True)
class TaskPlan:
    key: str
    name: str
    department_id: int
    results: tuple[str, ...]
    days: int  # working days the task gets


@dataclass(frozen=True)
class StagePlan:
    key: str
    tasks: tuple[TaskPlan, ...]
    accepts: bool


@dataclass(frozen=True)
class ApplicableItem:
    """A published item people apply for, with its workflow resolved to departments."""

    id: int
    implementation_code: str
    department_id: int
    stages: tuple[StagePlan, ...]
    is_instant: bool
    limit_days: int
    legal_days: int | None
    for_persons: bool


class _Departments:
    """Departments and regions in memory, to resolve task rules without a query per application."""

    def __init__(self) -> None:
        self.by_uscc = dict(Department.objects.values_list("uscc", "id"))
        self.region_of = dict(Department.objects.values_list("id", "region_id"))
        self.by_region_kind = {
            (region_id, kind): pk for pk, region_id, kind in Department.objects.values_list("id", "region_id", "kind")
        }
        self.regions = {
            pk: (level, parent) for pk, level, parent in Region.objects.values_list("id", "level", "parent")
        }

    def resolve(self, rule: dict[str, Any], implementing: int) -> int:
        """As routing resolves a rule, with the implementing department's region standing for the applicant's."""
        kind = rule.get("rule", "implementing")
        if kind == "fixed":
            return self.by_uscc.get(str(rule.get("uscc")), implementing)
        if kind == "kind":
            level = LEVELS.get(str(rule.get("level")), LEVELS["county"])
            region: int | None = self.region_of[implementing]
            while region is not None and self.regions[region][0] > level:
                region = self.regions[region][1]
            if region is not None and self.regions[region][0] == level:
                return self.by_region_kind.get((region, str(rule.get("kind"))), implementing)
        return implementing


def _working_days(limit: int, unit: str) -> int:
    return max(1, round(limit * 5 / 7)) if unit == "calendar" else limit


def applicable_items(
    *,
    department_ids: Collection[int] | None = None,
    exclude_department_ids: Collection[int] = (),
    for_persons: bool | None = None,
    synthetic_only: bool = False,
    limit: int | None = None,
) -> list[ApplicableItem]:
    """Published items with a form and a workflow (not 处罚, 强制, 检查), by id."""
    items = ServiceItem.objects.published().exclude(
        item_type__in=[ItemType.PENALTY, ItemType.COERCION, ItemType.INSPECTION]
    )
    if department_ids is not None:
        items = items.filter(department_id__in=list(department_ids))
    if exclude_department_ids:
        items = items.exclude(department_id__in=list(exclude_department_ids))
    if for_persons is not None:
        items = items.filter(for_persons=for_persons)
    if synthetic_only:
        items = items.filter(basic_code__startswith="9")
    rows = items.order_by("pk").values_list(
        "pk",
        "implementation_code",
        "department_id",
        "workflow",
        "form_schema",
        "handling_type",
        "promised_limit",
        "promised_limit_unit",
        "legal_limit",
        "legal_limit_unit",
        "for_persons",
    )
    if limit is not None:
        rows = rows[:limit]
    departments = _Departments()
    plans: dict[tuple[str, int], tuple[tuple[StagePlan, ...], bool]] = {}
    result = []
    for pk, code, department_id, flow_data, form_schema, handling, promised, p_unit, legal, l_unit, persons in rows:
        if not form_schema:
            continue
        if handling == HandlingType.IMMEDIATE:
            limit_days = 1
        elif promised:
            limit_days = _working_days(promised, p_unit)
        else:
            limit_days = _working_days(legal or 20, l_unit)
        legal_days = _working_days(legal, l_unit) if legal else None
        key = (json.dumps(flow_data, sort_keys=True, ensure_ascii=False), department_id)
        if key not in plans:
            flow = parse(flow_data)
            stages = tuple(
                StagePlan(
                    key=stage.key,
                    tasks=tuple(
                        TaskPlan(
                            key=task.key,
                            name=task.name,
                            department_id=departments.resolve(task.department, department_id),
                            results=task.results,
                            days=max(1, math.floor(limit_days * task.share / flow.total_share)),
                        )
                        for task in stage.tasks
                    ),
                    accepts=stage.accepts,
                )
                for stage in flow.stages
            )
            plans[key] = (stages, flow.is_instant)
        stages, is_instant = plans[key]
        result.append(
            ApplicableItem(
                id=pk,
                implementation_code=code,
                department_id=department_id,
                stages=stages,
                is_instant=is_instant,
                limit_days=limit_days,
                legal_days=legal_days,
                for_persons=persons,
            )
        )
    return result


# --- synthetic applicants ----------------------------------------------------------------

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文红建国志斌浩宇晨欣怡子涵梓轩思雨"


def synthetic_name(index: int) -> str:
    given = _GIVEN[index % len(_GIVEN)] + _GIVEN[(index // len(_GIVEN)) % len(_GIVEN)]
    return _SURNAMES[(index * 7) % len(_SURNAMES)] + given


def ensure_applicants(count: int) -> list[tuple[int, str]]:
    """At least ``count`` synthetic applicants (level 2, no usable password); their (id, name), oldest first."""
    existing = User.objects.filter(username__startswith=APPLICANT_PREFIX).count()
    joined = timezone.now()
    for start in range(existing, count, 5000):
        User.objects.bulk_create(
            [
                User(
                    username=f"{APPLICANT_PREFIX}{index:07d}",
                    email=f"{APPLICANT_PREFIX}{index:07d}@scale.invalid",
                    password=make_password(None),  # unusable: nobody logs in as a synthetic applicant
                    last_name=synthetic_name(index)[0],
                    first_name=synthetic_name(index)[1:],
                    full_name=synthetic_name(index),
                    id_type=IdentityType.RESIDENT_ID,
                    id_number_masked=f"3{'*' * 16}{index % 10}",
                    real_name_level=RealNameLevel.BASIC,
                    privacy_notice_version=settings.PRIVACY_NOTICE_VERSION,
                    date_joined=joined,
                )
                for index in range(start, min(count, start + 5000))
            ],
            ignore_conflicts=True,
        )
    return [
        (pk, full_name)
        for pk, full_name in User.objects.filter(username__startswith=APPLICANT_PREFIX)
        .order_by("username")
        .values_list("pk", "full_name")[:count]
    ]


# --- the plan of one application ---------------------------------------------------------

COMPLETED = "completed"
REJECTED = "rejected"
NOT_ACCEPTED = "not_accepted"
WITHDRAWN = "withdrawn"
ACCEPTING = "accepting"  # the first stage's tasks wait in the queue
REVIEWING = "reviewing"  # accepted; the last stage's tasks wait in the queue
SUPPLEMENT_ASKED = "supplement"  # a 补正 was asked at acceptance; the applicant has not answered
UNROUTED = "unrouted"  # just submitted: an unprocessed routing outbox row, no task yet
DRAFT = "draft"
FATES = (COMPLETED, REJECTED, NOT_ACCEPTED, WITHDRAWN, ACCEPTING, REVIEWING, SUPPLEMENT_ASKED, UNROUTED, DRAFT)
OPEN_FATES = (ACCEPTING, REVIEWING)
# What a year of work leaves, by share: the open ones are what the departments' queues hold.
SCALE_FATES = (
    (COMPLETED, 0.68),
    (REJECTED, 0.05),
    (NOT_ACCEPTED, 0.03),
    (WITHDRAWN, 0.04),
    (ACCEPTING, 0.07),
    (REVIEWING, 0.11),
    (SUPPLEMENT_ASKED, 0.02),
)


@dataclass(frozen=True)
class ApplicationPlan:
    serial: int
    item: ApplicableItem
    applicant_id: int
    applicant_name: str
    fate: str
    data: dict[str, Any] = field(default_factory=dict)
    prefilled: dict[str, str] = field(default_factory=dict)
    # Materials a draft has uploaded (Attachment rows only: no file is written).
    attachments: tuple[str, ...] = ()


def choose_fate(randomiser: random.Random, item: ApplicableItem) -> str:
    if item.is_instant:  # 即办件 are decided at once
        return COMPLETED if randomiser.random() < 0.95 else REJECTED
    draw = randomiser.random()
    for fate, share in SCALE_FATES:
        if draw < share:
            return fate
        draw -= share
    return COMPLETED


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
        self.randomiser = random.Random(application_set.code * 1_000_003 + count)  # noqa: S311
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
        raise CommandError(
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
            raise CommandError(
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
        raise CommandError("No published item can be applied for: seed the catalogue first (--items).")
    applicants = ensure_applicants(max(1, math.ceil(target / APPLICATIONS_PER_APPLICANT)))
    first = SCALE.next_serial()
    added = 0
    while added < missing:
        serials = range(first + added, first + min(missing, added + batch_size))
        randomiser = random.Random(serials[0])  # noqa: S311  # synthetic data, not a secret
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


class Command(BaseCommand):
    help = (
        "Seed the demo catalogue, then top the catalogue up to N synthetic published items "
        "(basic codes starting with 9) and the approvals up to N synthetic applications "
        "(PostgreSQL only). Safe to run again: it adds only what is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--items", type=int, default=0, help="How many synthetic items there should be.")
        parser.add_argument(
            "--applications",
            type=int,
            default=0,
            help="How many synthetic applications there should be, with their events and workflow tasks "
            "(PostgreSQL only: written with COPY).",
        )
        parser.add_argument("--batch-size", type=int, default=5000, help="Items written per transaction.")
        parser.add_argument(
            "--application-batch-size", type=int, default=10_000, help="Applications written per transaction."
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even when DEBUG is off (the synthetic items would be published in the real catalogue).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        target: int = options["items"]
        applications: int = options["applications"]
        if target < 0 or applications < 0 or options["batch_size"] < 1 or options["application_batch_size"] < 1:
            raise CommandError("--items and --applications must be 0 or more, and the batch sizes at least 1.")
        if applications:
            require_postgresql()
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "DEBUG is off: synthetic items would be published in this catalogue. "
                "Pass --allow-production to seed anyway."
            )
        started = time.monotonic()
        counts = seed_catalogue()
        self.stdout.write(f"Demo catalogue: {counts['departments']} departments, {counts['themes']} themes.")
        existing = synthetic_item_count()
        missing = max(target - existing, 0)
        with tqdm(total=missing, unit="item", desc="Synthetic items", disable=missing == 0) as bar:
            added = top_up_synthetic_items(target=target, batch_size=options["batch_size"], progress=bar.update)
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Synthetic items: {added} added, {existing} already there, {existing + added} in all ({elapsed:.1f} s)."
        )
        if not applications:
            return
        started = time.monotonic()
        existing_applications = SCALE.applications().count()
        missing_applications = max(applications - existing_applications, 0)
        with tqdm(
            total=missing_applications,
            unit="application",
            desc="Synthetic applications",
            disable=not missing_applications,
        ) as bar:
            added_applications = top_up_applications(
                target=applications, batch_size=options["application_batch_size"], progress=bar.update
            )
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Synthetic applications: {added_applications} added, {existing_applications} already there, "
            f"{existing_applications + added_applications} in all ({elapsed:.1f} s)."
        )
