"""The clerk's workbench reads: the queue of their departments' open tasks, one task, and who may act on it.

Everything here is scoped to the departments the user works for now, read again
on every request, so someone removed from a department loses its queue at once.
The queue is ordered by (due_at, id) and paged by that key (no OFFSET): the
partial index ``approvals_task_queue`` serves it however long the queue grows.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import selectors as account_selectors
from accounts.models import StaffRole, User
from approvals.models import Application, WorkflowTask
from core import calendar, crypto
from core.errors import Conflict, DomainError, NotFound
from datahub import registries
from services.models import Department

PAGE_SIZE = 20
MAX_ITEM_CODE_LENGTH = 31  # 实施编码

# What the status filter keeps: waiting tasks, mine, claimed by anyone, or every open one.
PENDING, MINE, CLAIMED, ALL_OPEN = "pending", "mine", "claimed", "open"
STATUS_CHOICES = (
    (ALL_OPEN, gettext_lazy("All open")),
    (PENDING, gettext_lazy("Waiting")),
    (MINE, gettext_lazy("Mine")),
    (CLAIMED, gettext_lazy("Being handled")),
)
# What the due filter keeps: past their due time (红灯), or due within one working day (黄灯).
OVERDUE, DUE_SOON = "overdue", "soon"
DUE_CHOICES = (
    ("", gettext_lazy("Any time")),
    (OVERDUE, gettext_lazy("Overdue")),
    (DUE_SOON, gettext_lazy("Due within 1 working day")),
)
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
# How long the list of services to filter by is kept (the counts and the rows are read on every request).
ITEMS_CACHE_SECONDS = 5
# What a row of the queue shows (workbench/queue.html), and the keys of its paging.
ROW_FIELDS = (
    "name",
    "status",
    "due_at",
    "application__number",
    "application__service__name",
    "department__name",
    "assignee__username",
    "assignee__email",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__full_name",
)


@dataclass(frozen=True)
class QueueFilters:
    """The queue's filters, already checked; empty strings mean "any"."""

    department: str = ""  # 统一社会信用代码 of one of the user's departments
    item: str = ""  # 实施编码
    status: str = ALL_OPEN
    due: str = ""

    def as_params(self) -> dict[str, str]:
        """The filters as query parameters, without the defaults."""
        params = {"department": self.department, "item": self.item, "due": self.due}
        if self.status != ALL_OPEN:
            params["status"] = self.status
        return {key: value for key, value in params.items() if value}


@dataclass(frozen=True)
class Cursor:
    """A position in the queue: the (due_at, id) of a task."""

    due_at: datetime.datetime
    task_id: int

    def encode(self) -> str:
        delta = self.due_at - EPOCH
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return f"{micros}-{self.task_id}"

    @classmethod
    def decode(cls, raw: str) -> Cursor | None:
        """The cursor a link carried, or None when it is not one."""
        micros, _sep, task_id = (raw or "").partition("-")
        if not micros.isdigit() or not task_id.isdigit() or len(micros) > 20 or len(task_id) > 19:
            return None
        try:
            moment = EPOCH + datetime.timedelta(microseconds=int(micros))
        except OverflowError:
            return None
        return cls(due_at=moment, task_id=int(task_id))

    @classmethod
    def of(cls, task: WorkflowTask) -> Cursor:
        return cls(due_at=task.due_at, task_id=task.pk)


@dataclass(frozen=True)
class Deadlines:
    """When a task counts as overdue (红灯) or due soon (黄灯), worked out once per request."""

    now: datetime.datetime
    soon_until: datetime.datetime

    def mark(self, due_at: datetime.datetime) -> str:
        if due_at < self.now:
            return OVERDUE
        if due_at <= self.soon_until:
            return DUE_SOON
        return ""


def deadlines(now: datetime.datetime | None = None) -> Deadlines:
    """Overdue: past its due time; due soon: by the end of the next working day."""
    now = now or timezone.now()
    next_working_day = calendar.add_working_days(calendar.local_day(now), 1)
    return Deadlines(now=now, soon_until=calendar.end_of_working_day(next_working_day))


@dataclass(frozen=True)
class QueueRow:
    task: WorkflowTask
    mark: str  # OVERDUE, DUE_SOON or ""


@dataclass
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str = ""
    previous_cursor: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def staff_department_list(user: AbstractBaseUser | AnonymousUser) -> list[Department]:
    """The departments the user works for now, by name."""
    return list(Department.objects.filter(pk__in=account_selectors.staff_departments(user)).order_by("name", "pk"))


def parse_filters(params: Any, departments: list[Department]) -> tuple[QueueFilters, dict[str, list[str]]]:
    """The queue's filters from query parameters, and a message for each one that is not valid (then ignored)."""
    errors: dict[str, list[str]] = {}
    department = str(params.get("department") or "").strip().upper()
    if department and department not in {each.uscc for each in departments}:
        errors["department"] = [_("Choose one of your departments.")]
        department = ""
    item = str(params.get("item") or "").strip().upper()
    if item and (len(item) > MAX_ITEM_CODE_LENGTH or not item.isalnum()):
        errors["item"] = [_("An implementation code has at most 31 letters and digits.")]
        item = ""
    status = str(params.get("status") or ALL_OPEN).strip()
    if status not in dict(STATUS_CHOICES):
        errors["status"] = [_("Choose one of: %(values)s.") % {"values": ", ".join(dict(STATUS_CHOICES))}]
        status = ALL_OPEN
    due = str(params.get("due") or "").strip()
    if due not in dict(DUE_CHOICES):
        errors["due"] = [_("Choose one of: %(values)s.") % {"values": ", ".join([OVERDUE, DUE_SOON])}]
        due = ""
    return QueueFilters(department=department, item=item, status=status, due=due), errors


def _open_tasks(department_ids: list[int]) -> QuerySet[WorkflowTask]:
    return WorkflowTask.objects.filter(department_id__in=department_ids, status__in=WorkflowTask.OPEN)


def _filtered(tasks: QuerySet[WorkflowTask], filters: QueueFilters, limits: Deadlines) -> QuerySet[WorkflowTask]:
    """The department, item and due filters (not the status one: the counts are per status)."""
    if filters.department:
        tasks = tasks.filter(department__uscc=filters.department)
    if filters.item:
        tasks = tasks.filter(application__implementation_code=filters.item)
    if filters.due == OVERDUE:
        tasks = tasks.filter(due_at__lt=limits.now)
    elif filters.due == DUE_SOON:
        tasks = tasks.filter(due_at__gte=limits.now, due_at__lte=limits.soon_until)
    return tasks


def _with_status(
    tasks: QuerySet[WorkflowTask], status: str, user: AbstractBaseUser | AnonymousUser
) -> QuerySet[WorkflowTask]:
    if status == PENDING:
        return tasks.filter(status=WorkflowTask.Status.PENDING)
    if status == MINE:
        return tasks.filter(status=WorkflowTask.Status.CLAIMED, assignee_id=user.pk)
    if status == CLAIMED:
        return tasks.filter(status=WorkflowTask.Status.CLAIMED)
    return tasks


def queue_tasks(
    user: AbstractBaseUser | AnonymousUser,
    filters: QueueFilters,
    limits: Deadlines,
    *,
    department_ids: list[int] | None = None,
) -> QuerySet[WorkflowTask]:
    """The open tasks of the user's departments that the filters keep, by due time, with what a row shows."""
    if department_ids is None:
        department_ids = account_selectors.staff_departments(user)
    tasks = _filtered(_open_tasks(department_ids), filters, limits)
    return (
        _with_status(tasks, filters.status, user)
        .select_related("application__service", "department", "assignee")
        # Only the columns a row shows: the application's answers and the service's form are large JSON.
        .only(*ROW_FIELDS)
        .order_by("due_at", "pk")
    )


def queue_summary(
    user: AbstractBaseUser | AnonymousUser, filters: QueueFilters, limits: Deadlines, *, department_ids: list[int]
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """How many tasks each status filter would show (the other filters as they are), and the services to filter by.

    The counts are read on every request, so a clerk's own claim or decision shows at once. The services
    (实施编码 and name) of the open tasks need every task's application: that list is kept for a few seconds
    (ITEMS_CACHE_SECONDS) per set of departments and department and due filters, and read again with the
    counts, in one grouped query, when it is not kept.
    """
    key = _items_cache_key(filters, department_ids)
    items: list[tuple[str, str]] | None = cache.get(key)
    if items is not None:
        return _status_counts(user, filters, limits, department_ids=department_ids), items
    counts, items = _grouped_summary(user, filters, limits, department_ids=department_ids)
    cache.set(key, items, ITEMS_CACHE_SECONDS)
    return counts, items


def _items_cache_key(filters: QueueFilters, department_ids: list[int]) -> str:
    departments = ",".join(str(department_id) for department_id in sorted(department_ids))
    return f"approvals.queue.items.{departments}.{filters.department}.{filters.due}"


def _status_counts(
    user: AbstractBaseUser | AnonymousUser, filters: QueueFilters, limits: Deadlines, *, department_ids: list[int]
) -> dict[str, int]:
    """The counts of each status filter in one aggregate; without an item filter, over the tasks alone."""
    tasks = _filtered(_open_tasks(department_ids), filters, limits)
    counts: dict[str, int] = tasks.aggregate(**_status_aggregates(user))
    return counts


def _grouped_summary(
    user: AbstractBaseUser | AnonymousUser, filters: QueueFilters, limits: Deadlines, *, department_ids: list[int]
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """The counts and the services, in one grouped query.

    Per service (实施编码) of the open tasks that the department and due filters keep: its name and its
    count in each status; the counts add up the services the item filter keeps.
    """
    tasks = _filtered(_open_tasks(department_ids), replace(filters, item=""), limits)
    groups = (
        tasks.values("application__implementation_code")
        .annotate(name=Max("application__service__name"), **_status_aggregates(user))
        .order_by("name", "application__implementation_code")
    )
    counts = dict.fromkeys((PENDING, MINE, CLAIMED, ALL_OPEN), 0)
    items = []
    for group in groups:
        code = group["application__implementation_code"]
        items.append((code, group["name"]))
        if not filters.item or code == filters.item:
            for key in counts:
                counts[key] += group[key]
    return counts, items


def _status_aggregates(user: AbstractBaseUser | AnonymousUser) -> dict[str, Count]:
    # Counted by status (never null) rather than by id: an index of the department's open tasks with their
    # status and assignee can then answer without reading the table (Django allows no COUNT(*) with a filter).
    return {
        PENDING: Count("status", filter=Q(status=WorkflowTask.Status.PENDING)),
        MINE: Count("status", filter=Q(status=WorkflowTask.Status.CLAIMED, assignee_id=user.pk)),
        CLAIMED: Count("status", filter=Q(status=WorkflowTask.Status.CLAIMED)),
        ALL_OPEN: Count("status"),
    }


def queue_page(
    tasks: QuerySet[WorkflowTask],
    limits: Deadlines,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> QueuePage:
    """One page of the queue after (or before) a cursor, by (due_at, id): one query, however deep the page."""
    if before is not None:
        earlier = Q(due_at__lt=before.due_at) | Q(due_at=before.due_at, pk__lt=before.task_id)
        found = list(tasks.filter(earlier).order_by("-due_at", "-pk")[: size + 1])
        has_more_before = len(found) > size
        page_tasks = list(reversed(found[:size]))
        has_previous, has_next = has_more_before, True
    else:
        if after is not None:
            tasks = tasks.filter(Q(due_at__gt=after.due_at) | Q(due_at=after.due_at, pk__gt=after.task_id))
        found = list(tasks[: size + 1])
        page_tasks = found[:size]
        has_previous, has_next = after is not None, len(found) > size
    rows = [QueueRow(task=task, mark=limits.mark(task.due_at)) for task in page_tasks]
    return QueuePage(
        rows=rows,
        next_cursor=Cursor.of(page_tasks[-1]).encode() if has_next and page_tasks else "",
        previous_cursor=Cursor.of(page_tasks[0]).encode() if has_previous and page_tasks else "",
    )


def department_tasks(
    department_ids: list[int],
    *,
    status: str = "",
    service: str = "",
    due_before: datetime.datetime | None = None,
) -> QuerySet[WorkflowTask]:
    """The tasks of these departments by due time: the open ones, or those of one status; for the API's list.

    ``service`` is a 实施编码; ``due_before`` keeps the tasks due strictly before that moment.
    """
    tasks = WorkflowTask.objects.filter(department_id__in=department_ids)
    tasks = tasks.filter(status=status) if status else tasks.filter(status__in=WorkflowTask.OPEN)
    if service:
        tasks = tasks.filter(application__implementation_code=service)
    if due_before is not None:
        tasks = tasks.filter(due_at__lt=due_before)
    return tasks.select_related("application", "department", "assignee").order_by("due_at", "pk")


# --- what was decided (已办) ---------------------------------------------------------

# Whose decisions the 已办 list shows: every one of the user's departments, or the user's own.
DONE_DEPARTMENTS, DONE_MINE = "", "mine"
DONE_CHOICES = (
    (DONE_DEPARTMENTS, gettext_lazy("My departments")),
    (DONE_MINE, gettext_lazy("Decided by me")),
)
DONE_ROW_FIELDS = (
    "name",
    "result",
    "finished_at",
    "application__number",
    "application__service__name",
    "department__name",
    "decided_by__username",
    "decided_by__email",
    "decided_by__first_name",
    "decided_by__last_name",
    "decided_by__full_name",
)


@dataclass
class DonePage:
    tasks: list[WorkflowTask]
    next_cursor: str = ""


def parse_done_filter(params: Any) -> tuple[str, dict[str, list[str]]]:
    """Whose decisions to show, and a message when the parameter is not valid (then ignored)."""
    who = str(params.get("who") or "").strip()
    if who not in dict(DONE_CHOICES):
        return DONE_DEPARTMENTS, {"who": [_("Choose one of: %(values)s.") % {"values": DONE_MINE}]}
    return who, {}


def done_tasks(
    user: AbstractBaseUser | AnonymousUser, *, department_ids: list[int], who: str
) -> QuerySet[WorkflowTask]:
    """The tasks of the user's departments that were decided, newest first, scoped as the queue is."""
    tasks = WorkflowTask.objects.filter(
        department_id__in=department_ids, status=WorkflowTask.Status.DONE, finished_at__isnull=False
    )
    if who == DONE_MINE:
        tasks = tasks.filter(decided_by_id=user.pk)
    return (
        tasks.select_related("application__service", "department", "decided_by")
        .only(*DONE_ROW_FIELDS)
        .order_by("-finished_at", "-pk")
    )


def done_page(tasks: QuerySet[WorkflowTask], *, after: Cursor | None = None, size: int = PAGE_SIZE) -> DonePage:
    """One page of decided tasks older than the cursor (a task's finishing time and id): one query at any depth."""
    if after is not None:
        tasks = tasks.filter(Q(finished_at__lt=after.due_at) | Q(finished_at=after.due_at, pk__lt=after.task_id))
    found = list(tasks[: size + 1])
    page_tasks = found[:size]
    last = page_tasks[-1] if len(found) > size else None
    # The cursor's moment is the task's finishing time here (the queue's is its due time).
    next_cursor = Cursor(due_at=last.finished_at, task_id=last.pk).encode() if last and last.finished_at else ""
    return DonePage(tasks=page_tasks, next_cursor=next_cursor)


# --- one task -----------------------------------------------------------------


def task_for_staff(user: AbstractBaseUser | AnonymousUser, *, task_id: int) -> WorkflowTask:
    """A task of one of the user's departments, with its application; NotFound for anyone else."""
    task = (
        WorkflowTask.objects.select_related(
            "application__service", "application__department", "application__acting_for", "department", "assignee"
        )
        .filter(pk=task_id, department_id__in=account_selectors.staff_departments(user))
        .first()
    )
    if task is None:
        raise NotFound(_("No such task."))
    return task


def is_held_by(task: WorkflowTask, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user has claimed the task (and holds it still)."""
    return task.status == WorkflowTask.Status.CLAIMED and task.assignee_id == user.pk


def application_tasks(application: Application) -> list[WorkflowTask]:
    """Every task of the application, stage by stage, with who holds or decided it."""
    return list(
        application.tasks.select_related("department", "assignee", "decided_by").order_by(
            "stage_index", "stage_round", "pk"
        )
    )


def is_supervisor(user: AbstractBaseUser | AnonymousUser, department_id: int) -> bool:
    return StaffRole.SUPERVISOR in account_selectors.staff_roles(user, department_id)


def department_staff(department_id: int) -> list[User]:
    """The members of a department, by name: whom a supervisor may give a task to."""
    members = account_selectors.department_members(department_id)
    return list(User.objects.filter(pk__in=members).order_by("last_name", "first_name", "pk"))


# --- registry checks while handling a task ---------------------------------------


def review_purpose(application: Application) -> str:
    """Why a clerk reads a base registry while handling the application: the access log keeps it."""
    return f"审查办件 {application.number}"


def has_applicant_identity(application: Application) -> bool:
    """Whether the application's snapshot has what the population registry checks: a name and a document."""
    return bool(application.applicant_name and application.applicant_id_type and application.applicant_id_encrypted)


def _require_open(task: WorkflowTask) -> None:
    # A registry is read for a purpose: handling the task. Once it is done, there is none.
    if not task.is_open:
        raise Conflict(
            _("This task is no longer open: the registries are checked only while it is handled."), code="task_closed"
        )


def applicant_verify(user: User, task: WorkflowTask) -> bool:
    """比对验证: whether the population registry knows the applicant by the snapshot's name and document.

    Logged by the registry with the review's purpose, for the task's department.
    """
    _require_open(task)
    application = task.application
    if not has_applicant_identity(application):
        raise DomainError(_("The application has no identity document to check."), code="no_identity")
    return registries.person_verify(
        name=application.applicant_name,
        id_type=application.applicant_id_type,
        id_number=crypto.decrypt(application.applicant_id_encrypted),
        actor=user,
        purpose=review_purpose(application),
        department_id=task.department_id,
    )


def enterprise_lookup(user: User, task: WorkflowTask) -> registries.LegalPersonView | None:
    """查询引用: the legal person registry's record of the enterprise the application is made for, or None.

    Logged by the registry with the review's purpose, for the task's department.
    """
    _require_open(task)
    enterprise = task.application.acting_for
    if enterprise is None:
        raise DomainError(_("The application is not made for an enterprise."), code="no_enterprise")
    return registries.legal_person_lookup(
        uscc=enterprise.uscc, actor=user, purpose=review_purpose(task.application), department_id=task.department_id
    )
