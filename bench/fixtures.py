"""What the benchmarks need in the database beyond ``bench.scale``, and the in-process measurements.

Called by bench/run.py after ``django.setup()`` with the benchmark's settings. Each
set of applications here is a set of ``bench.scale``'s writer (its own public_id
range and its own days for 办件编号), topped up, so that a database is reused
from one run to the next:

- the queue: a clerk of one department with 10,000 open tasks in it;
- mine: a citizen with 200 applications;
- drafts: ready drafts (answers and materials complete) of 16 submitters, each
  submitted once by the load test;
- routing: just-submitted applications with an unprocessed routing outbox row.

Logins are sessions made here as a real login leaves them (allauth's record of
the methods used, TOTP for staff), sent as a cookie or as ``X-Session-Token``.
"""

from __future__ import annotations

import datetime
import importlib
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import encrypt
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import RealNameLevel, StaffMembership, StaffRole, User
from approvals.applications import rules, submission
from approvals.materials import materials_of
from approvals.models import Application, WorkflowTask
from bench.scale.plans import (
    DRAFT,
    REVIEWING,
    SCALE,
    UNROUTED,
    ApplicableItem,
    ApplicationPlan,
    ApplicationSet,
    applicable_items,
    choose_fate,
    ensure_applicants,
    query_password,
)
from bench.scale.writer import write_applications
from core import crypto
from datahub.identity import IdentityType, mask_id, resident_id_check_character
from datahub.models import ID_NUMBER_HASH_PURPOSE
from services.models import Department, ServiceItem

QUEUE = ApplicationSet(code=1, first_day=datetime.date(2022, 1, 1), per_day=9999)
MINE = ApplicationSet(code=2, first_day=datetime.date(2022, 4, 1), per_day=1)
DRAFTS = ApplicationSet(code=3, first_day=datetime.date(2022, 1, 1), per_day=9999)  # drafts have no number
ROUTING = ApplicationSet(code=4, first_day=datetime.date(2021, 1, 1), per_day=9999)

CLERK_EMAIL = "bench-clerk@bench.invalid"
CITIZEN_EMAIL = "bench-citizen@bench.invalid"
SUBMITTER_EMAIL = "bench-submitter-{index:02d}@bench.invalid"
ALLAUTH_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"
# Bench only: the clerk's TOTP secret (the session says TOTP was used; no code is ever computed).
TOTP_SECRET = "BENCHBENCHBENCHBENCHBENCHBENCH22"  # noqa: S105


# --- users and logins ---------------------------------------------------------------


def _user(email: str, *, full_name: str, level: int = RealNameLevel.BASIC) -> User:
    user, _created = User.objects.get_or_create(
        username=email,
        defaults={
            "email": email,
            "last_name": full_name[0],
            "first_name": full_name[1:],
            "full_name": full_name,
            "real_name_level": level,
            "privacy_notice_version": settings.PRIVACY_NOTICE_VERSION,
        },
    )
    user.set_unusable_password()
    user.privacy_notice_version = settings.PRIVACY_NOTICE_VERSION
    user.save(update_fields=["password", "privacy_notice_version"])
    EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


def new_session(user: User, *, with_totp: bool = False) -> str:
    """A session as a login leaves it (password, and TOTP for staff); its key is the cookie and the app token."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = ALLAUTH_BACKEND
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    methods: list[dict[str, Any]] = [{"method": "password", "at": time.time(), "email": user.email}]
    if with_totp:
        authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
        methods.append({"method": "mfa", "at": time.time(), "id": authenticator.pk, "type": "totp"})
    session["account_authentication_methods"] = methods
    session["account_authentication_methods_user"] = str(user.pk)
    session.create()
    assert session.session_key is not None
    return session.session_key


def _resident_id(index: int) -> str:
    first_seventeen = (
        f"330106{datetime.date(1980, 1, 1) + datetime.timedelta(days=index * 37):%Y%m%d}{index % 1000:03d}"
    )
    return first_seventeen + resident_id_check_character(first_seventeen)


def _give_identity(user: User, index: int) -> str:
    number = _resident_id(index)
    user.id_type = IdentityType.RESIDENT_ID
    user.id_number_hash = crypto.keyed_hash(number, purpose=ID_NUMBER_HASH_PURPOSE)
    user.id_number_encrypted = crypto.encrypt(number)
    user.id_number_masked = mask_id(number)
    user.real_name_level = RealNameLevel.ADVANCED
    user.real_name_verified_at = user.real_name_verified_at or datetime.datetime.now(tz=datetime.UTC)
    user.save(
        update_fields=[
            "id_type",
            "id_number_hash",
            "id_number_encrypted",
            "id_number_masked",
            "real_name_level",
            "real_name_verified_at",
        ]
    )
    return number


# --- the clerk's queue ------------------------------------------------------------------


def queue_department() -> Department:
    """The department whose clerk the benchmark logs in: the one with the most open tasks already."""
    busiest = (
        WorkflowTask.objects.filter(status__in=WorkflowTask.OPEN)
        .values("department_id")
        .annotate(open=Count("pk"))
        .order_by("-open", "department_id")
        .first()
    )
    if busiest is not None:
        return Department.objects.get(pk=busiest["department_id"])
    department_id = applicable_items(synthetic_only=True, limit=1)[0].department_id
    return Department.objects.get(pk=department_id)


def open_tasks(department: Department) -> int:
    return WorkflowTask.objects.filter(department=department, status__in=WorkflowTask.OPEN).count()


def top_up_queue(department: Department, *, target: int) -> int:
    """Open tasks of the department's own items until it has ``target``; returns how many it has."""
    missing = target - open_tasks(department)
    if missing > 0:
        items = [
            item
            for item in applicable_items(department_ids=[department.pk])
            if not item.is_instant
            and all(task.department_id == department.pk for task in item.stages[-1].tasks)
            and len(item.stages[-1].tasks) == 1
        ]
        if not items:
            raise RuntimeError(f"department {department.uscc} has no item whose last stage it handles alone")
        applicants = ensure_applicants(100)
        first = QUEUE.next_serial()
        for start in range(0, missing, 10_000):
            plans = [
                ApplicationPlan(
                    serial=serial,
                    item=items[serial % len(items)],
                    applicant_id=applicants[serial % len(applicants)][0],
                    applicant_name=applicants[serial % len(applicants)][1],
                    fate=REVIEWING,
                )
                for serial in range(first + start, first + min(missing, start + 10_000))
            ]
            write_applications(plans, application_set=QUEUE)
    return open_tasks(department)


def clerk_of(department: Department) -> User:
    """The benchmark's clerk: a member of the department with TOTP, its membership only there."""
    clerk = _user(CLERK_EMAIL, full_name="白晓晴")
    StaffMembership.objects.filter(user=clerk).exclude(department=department).delete()
    StaffMembership.objects.get_or_create(user=clerk, department=department, defaults={"role": StaffRole.CLERK})
    Authenticator.objects.get_or_create(
        user=clerk, type=Authenticator.Type.TOTP, defaults={"data": {"secret": encrypt(TOTP_SECRET)}}
    )
    return clerk


# --- my applications ------------------------------------------------------------------------


def citizen_with_applications(count: int) -> User:
    """A citizen with ``count`` applications in every status (topped up)."""
    citizen = _user(CITIZEN_EMAIL, full_name="钱多多")
    have = MINE.applications().filter(applicant=citizen).count()
    if have < count:
        items = applicable_items(for_persons=True, synthetic_only=True, limit=2000)
        randomiser = random.Random(count)  # synthetic data
        first = MINE.next_serial()
        plans: list[ApplicationPlan] = []
        for serial in range(first, first + count - have):
            item = items[(serial * 7919) % len(items)]
            plans.append(
                ApplicationPlan(
                    serial=serial,
                    item=item,
                    applicant_id=citizen.pk,
                    applicant_name=citizen.full_name,
                    fate=choose_fate(randomiser, item),
                )
            )
        write_applications(plans, application_set=MINE)
    return citizen


# --- ready drafts and their submitters ---------------------------------------------------


@dataclass(frozen=True)
class Submitter:
    user: User
    id_number: str


def submitters(count: int) -> list[Submitter]:
    """Citizens at 高级实名 with their identity stored as the real-name check stores it."""
    result = []
    for index in range(count):
        user = _user(SUBMITTER_EMAIL.format(index=index), full_name=f"孙{'一二三四五六七八九十'[index % 10]}{index}")
        result.append(Submitter(user=user, id_number=_give_identity(user, index)))
    return result


def _draft_items(excluded_department: Department, count: int) -> list[tuple[ApplicableItem, tuple[str, ...]]]:
    """Synthetic two-stage items for individuals, outside the queue's department, with their required materials."""
    items = [
        item
        for item in applicable_items(
            for_persons=True, synthetic_only=True, exclude_department_ids=[excluded_department.pk], limit=count * 3
        )
        if not item.is_instant and len(item.stages) > 1
    ][:count]
    rows = ServiceItem.objects.in_bulk([item.id for item in items])
    return [
        (item, tuple(entry["code"] for entry in materials_of(rows[item.id]) if entry.get("required"))) for item in items
    ]


def ready_drafts(people: Sequence[Submitter], *, per_user: int, excluded_department: Department) -> list[list[str]]:
    """At least ``per_user`` ready drafts for each submitter; their public ids, per submitter, oldest first."""
    items = _draft_items(excluded_department, 200)
    if not items:
        raise RuntimeError("no synthetic item for individuals to make drafts of: seed the catalogue first")
    first = DRAFTS.next_serial()
    plans: list[ApplicationPlan] = []
    for person in people:
        have = DRAFTS.applications().filter(applicant=person.user, status=Application.Status.DRAFT).count()
        for _ in range(per_user - have):
            item, attachments = items[(first + len(plans)) % len(items)]
            plans.append(
                ApplicationPlan(
                    serial=first + len(plans),
                    item=item,
                    applicant_id=person.user.pk,
                    applicant_name="",
                    fate=DRAFT,
                    data={
                        "applicant_name": person.user.full_name,
                        "applicant_id_number": person.id_number,
                        "reason": "因工作需要申请办理。",
                        "phone": "13800138000",
                    },
                    prefilled={"applicant_name": "population", "applicant_id_number": "population"},
                    attachments=attachments,
                )
            )
    for start in range(0, len(plans), 10_000):
        write_applications(plans[start : start + 10_000], application_set=DRAFTS)
    result = []
    for person in people:
        drafts = DRAFTS.applications().filter(applicant=person.user, status=Application.Status.DRAFT).order_by("pk")
        result.append([str(public_id) for public_id in drafts.values_list("public_id", flat=True)[:per_user]])
    check_drafts_submittable([ids[0] for ids in result if ids])
    return result


def check_drafts_submittable(public_ids: Sequence[str]) -> None:
    """The submit path's own checks on a few drafts: a draft it would refuse would measure nothing."""
    for application in Application.objects.filter(public_id__in=public_ids).select_related("service", "applicant"):
        assert application.applicant is not None
        rules.check_may_apply(user=application.applicant, item=application.service, acting_for=None)
        problems = submission.submission_problems(application)
        if problems:
            raise RuntimeError(f"draft {application.public_id} could not be submitted: {problems}")


# --- routing batches ---------------------------------------------------------------------


def routing_batch(count: int, *, excluded_department: Department) -> list[int]:
    """``count`` just-submitted applications with an unprocessed routing outbox row; the outbox ids."""
    items = [
        item
        for item in applicable_items(synthetic_only=True, exclude_department_ids=[excluded_department.pk], limit=2000)
        if not item.is_instant
    ]
    applicants = ensure_applicants(100)
    first = ROUTING.next_serial()
    plans = [
        ApplicationPlan(
            serial=serial,
            item=items[(serial * 7919) % len(items)],
            applicant_id=applicants[serial % len(applicants)][0],
            applicant_name=applicants[serial % len(applicants)][1],
            fate=UNROUTED,
        )
        for serial in range(first, first + count)
    ]
    return write_applications(plans, application_set=ROUTING).outbox_ids


# --- what the load tests ask for ----------------------------------------------------------


def track_pairs(count: int, seed: int = 1) -> list[tuple[str, str]]:
    """(办件编号, 查询密码) of ``count`` synthetic applications picked at random over the whole set."""
    total = SCALE.applications().count()
    if total == 0:
        raise RuntimeError("no synthetic application to track: run python -m bench.scale --applications first")
    randomiser = random.Random(seed)  # which applications to ask for
    serials = {randomiser.randrange(SCALE.next_serial()) for _ in range(count)}
    found = Application.objects.filter(public_id__in=[SCALE.public_id(serial) for serial in serials]).values_list(
        "public_id", "number"
    )
    return [(number, query_password(SCALE.serial_of(public_id))) for public_id, number in found if number]


def guide_codes(count: int) -> list[str]:
    """Implementation codes of ``count`` published items picked at random."""
    return list(ServiceItem.objects.published().order_by("?").values_list("implementation_code", flat=True)[:count])


def first_synthetic_code() -> str:
    """The guide every catalogue size has: the first synthetic item (the same on 1,000 items and on 100,000)."""
    code = (
        ServiceItem.objects.published()
        .filter(basic_code__startswith="9")
        .order_by("basic_code")
        .values_list("implementation_code", flat=True)
        .first()
    )
    if code is None:
        raise RuntimeError("no synthetic item: run python -m bench.scale --items first")
    return code


# --- in-process measurements ----------------------------------------------------------------

# As the load sends them: marked as forwarded HTTPS by the proxy, so the HTTPS redirect does not answer instead.
FORWARDED_HTTPS = {"X-Forwarded-Proto": "https"}


def _client(session_key: str | None = None) -> Client:
    client = Client(headers=FORWARDED_HTTPS)
    if session_key:
        client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    return client


def count_queries(path: str, *, session_key: str | None = None, headers: dict[str, str] | None = None) -> int:
    """SQL statements one request runs, through the whole middleware stack; fails unless it answers 200."""
    client = _client(session_key)
    client.get(path, headers=headers)  # first: per-process caches, as a warm worker has them
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}, not 200")
    return len(captured.captured_queries)


def count_page_queries(path: str) -> tuple[int, int]:
    """SQL statements of an anonymous page when the page cache misses (it renders), and when it hits.

    A query string the view ignores makes a URL of its own, so the first request to it renders.
    """
    client = _client()
    client.get(f"{path}?bench-warm={uuid.uuid4().hex}")  # per-process caches, as a warm worker has them
    unique = f"{path}?bench-count={uuid.uuid4().hex}"
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(unique)
        if response.status_code != 200:
            raise RuntimeError(f"{unique} answered {response.status_code}, not 200")
        counts.append(len(captured.captured_queries))
    return counts[0], counts[1]


def time_requests(
    paths: Sequence[str], *, session_key: str | None = None, headers: dict[str, str] | None = None
) -> list[float]:
    """Milliseconds each request took in this process (no web server, no other load)."""
    client = _client(session_key)
    timings = []
    for path in paths:
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}, not 200")
    return timings


FLAT_LINES = 40


def profile(work: Callable[[], object], *, repeat: int) -> str:
    """pyinstrument on ``work`` run ``repeat`` times: where the time goes.

    First the functions with the most time of their own (libraries included: SQL,
    JSON, templates), then the call tree of the project's own code.
    """
    profiler = importlib.import_module("pyinstrument").Profiler(interval=0.0005)
    profiler.start()
    for _ in range(repeat):
        work()
    profiler.stop()
    flat: str = profiler.output_text(unicode=True, color=False, flat=True, flat_time="self")
    tree: str = profiler.output_text(unicode=True, color=False, show_all=False)
    heading = f"{repeat} calls; seconds in all\n\nTime of their own, most first:\n"
    return heading + "\n".join(flat.splitlines()[:FLAT_LINES]) + "\n\nCall tree:\n" + tree


def profile_requests(
    paths: Sequence[str],
    *,
    session_key: str | None = None,
    bodies: Sequence[str] | None = None,
    headers: Sequence[dict[str, str]] | None = None,
    warm: bool = True,
) -> str:
    """The call tree of these requests (POSTs of ``bodies`` when given, else GETs), each once, in this process.

    With ``warm``, every request is sent once before the profile starts.
    """
    client = _client(session_key)
    position = {"next": 0}

    def one() -> None:
        index = position["next"]
        position["next"] += 1
        extra = headers[index] if headers else None
        if bodies is not None:
            client.post(paths[index], data=bodies[index], content_type="application/json", headers=extra)
        else:
            client.get(paths[index], headers=extra)

    if warm:  # imports, per-process caches, cached facet counts: as a worker has them after a while
        for _ in paths:
            one()
        position["next"] = 0
    return profile(one, repeat=len(paths))
