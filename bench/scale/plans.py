"""Which synthetic applications there are, and the plan of each: its set, item, applicant and fate.

Synthetic applications are recognised by their ``public_id``: a reserved range of
UUIDs, one sub-range per set (``SCALE``, the one ``python -m bench.scale`` fills, and
the sets the benchmarks add for themselves in bench/fixtures.py), holding the
application's serial number. Their 办件编号 are dated on days before today (a set
has its own days), so they never take a number a real submission would. Their
applicants are synthetic users (``scale-applicant-…``) who cannot log in (no usable
password).
"""

from __future__ import annotations

import datetime
import json
import math
import random
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import models
from django.utils import timezone

from accounts.models import RealNameLevel, User
from approvals.models import Application
from approvals.workflow import parse
from datahub.identity import IdentityType
from services.models import Department, HandlingType, ItemType, Region, ServiceItem
from services.workflow_rules import LEVELS


class ScaleError(Exception):
    """Seeding at scale cannot go on; the message says why and what to do."""


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
