"""What the workbench page tests share (the queue speed and workbench API tests use them too)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Enterprise, StaffMembership, StaffRole, User
from approvals.models import Application, WorkflowTask
from approvals.workbench import actions as workbench_actions
from datahub.models import DataAccessLog
from demo.registry_data import YIWANG_TECHNOLOGY
from services.models import Department, ServiceItem
from tests.approvals.builders import make_applicable_item, submitted
from tests.approvals.helpers import route
from tests.datahub.builders import make_wang_household, make_yiwang_technology
from tests.factories import enroll_totp, staff_member


def client_of(user: User, *, totp: bool = True) -> Client:
    if totp:
        enroll_totp(user)
    client = Client()
    client.force_login(user)
    return client


def en(name: str, *args: Any, query: str = "") -> str:
    """The English page's URL (assertions read English text; the Chinese page is checked on its own)."""
    with translation.override("en"):
        return reverse(name, args=args) + (f"?{query}" if query else "")


def first_task(citizen: User, item: ServiceItem) -> WorkflowTask:
    """A submitted application, routed: its 受理 task waits in the department's queue."""
    application = submitted(citizen, item)
    route()
    return application.tasks.get()


def accepted(citizen: User, item: ServiceItem, clerk: User) -> Application:
    """A submitted application the clerk accepted, routed on to its next stage."""
    accept = first_task(citizen, item)
    workbench_actions.task_claim(task_id=accept.pk, clerk=clerk)
    workbench_actions.task_decide(task_id=accept.pk, clerk=clerk, result="受理")
    route()
    return accept.application


def task_in_review(citizen: User, item: ServiceItem, clerk: User) -> WorkflowTask:
    """An accepted application whose 审查 task waits (the application has its due date)."""
    return WorkflowTask.objects.get(application=accepted(citizen, item, clerk), stage_key="review")


numbers = iter(range(1, 10_000))


def queued_task(
    item: ServiceItem,
    due_at: datetime.datetime,
    *,
    department: Department | None = None,
    assignee: User | None = None,
    status: str = WorkflowTask.Status.PENDING,
    name: str = "受理",
) -> WorkflowTask:
    """A task with a chosen due time on an application of its own (what routing makes, without the routing)."""
    number = f"{item.implementation_code}20250101{next(numbers):04d}"
    application = Application.objects.create(
        number=number,
        service=item,
        implementation_code=item.implementation_code,
        department=item.department,
        status=Application.Status.SUBMITTED,
        submitted_at=timezone.now(),
        applicant_name="王小明",
    )
    if assignee is not None and status == WorkflowTask.Status.PENDING:
        status = WorkflowTask.Status.CLAIMED
    return WorkflowTask.objects.create(
        application=application,
        stage_index=0,
        stage_key="accept",
        stage_round=1,
        task_key="accept",
        name=name,
        department=department or item.department,
        allowed_results=["受理", "不予受理", "补齐补正"],
        status=status,
        assignee=assignee,
        claimed_at=timezone.now() if assignee else None,
        due_at=due_at,
    )


@dataclass(frozen=True)
class MixedQueue:
    """The department's three open tasks, by due time; its done and cancelled ones and another department's are
    in the database too."""

    overdue: WorkflowTask  # two hours late, held by 周敏
    soon: WorkflowTask  # due in five minutes, waiting
    later: WorkflowTask  # due in thirty days, waiting
    colleague: User  # 周敏, a clerk of the department


def mixed_queue(item: ServiceItem, other_department: Department) -> MixedQueue:
    now = timezone.now()
    colleague = staff_member("colleague@example.com", item.department, StaffRole.CLERK, full_name="周敏")
    later = queued_task(item, now + datetime.timedelta(days=30))
    overdue = queued_task(item, now - datetime.timedelta(hours=2), assignee=colleague)
    soon = queued_task(item, now + datetime.timedelta(minutes=5))
    queued_task(item, now - datetime.timedelta(days=3), status=WorkflowTask.Status.DONE)
    queued_task(item, now - datetime.timedelta(days=3), status=WorkflowTask.Status.CANCELLED)
    queued_task(item, now - datetime.timedelta(days=3), department=other_department)
    return MixedQueue(overdue=overdue, soon=soon, later=later, colleague=colleague)


class TwoDepartmentQueue(NamedTuple):
    """Open tasks of the clerk's two departments (``item``'s and ``other_department``, whose item is ``other_item``)."""

    mine: WorkflowTask  # held by the clerk, due in twenty days
    theirs: WorkflowTask  # held by a colleague, an hour late
    waiting: WorkflowTask  # nobody holds it, due in thirty minutes
    elsewhere: WorkflowTask  # other_item's, nobody holds it, due in forty days
    other_item: ServiceItem


def queue_of_two_departments(
    item: ServiceItem, clerk: User, other_department: Department, now: datetime.datetime
) -> TwoDepartmentQueue:
    """The clerk becomes a clerk of ``other_department`` too; each task is due counting from ``now``."""
    StaffMembership.objects.create(user=clerk, department=other_department, role=StaffRole.CLERK)
    colleague = staff_member("colleague@example.com", item.department, StaffRole.CLERK)
    other_item = make_applicable_item(department=other_department, basic_code="000120000009")
    return TwoDepartmentQueue(
        mine=queued_task(item, now + datetime.timedelta(days=20), assignee=clerk),
        theirs=queued_task(item, now - datetime.timedelta(hours=1), assignee=colleague),
        waiting=queued_task(item, now + datetime.timedelta(minutes=30)),
        elsewhere=queued_task(other_item, now + datetime.timedelta(days=40)),
        other_item=other_item,
    )


def rows(page: str) -> list[str]:
    """The application numbers of the queue's rows, in order."""
    import re

    return re.findall(r'<th scope="row"[^>]*><a href="[^"]+">([0-9A-Z]{43})</a>', page)


PAGES = ["queue", "task", "claim", "release", "decide", "reassign", "extend", "verify_applicant"]


# What each named user gets from each page of a task waiting for 审查 (nobody holds it): a status, or where it
# redirects ("mfa": to activate TOTP; "task": back to the task page, done).
EXPECTED = {
    "citizen": dict.fromkeys(PAGES, 404),
    "clerk_without_totp": dict.fromkeys(PAGES, "mfa"),
    "other_clerk": {"queue": 200, **dict.fromkeys(PAGES[1:], 404)},
    # a clerk looks, claims and checks the registry; release and decide need the task held (409); reassign and
    # extend are a supervisor's
    "clerk": {
        "queue": 200, "task": 200, "claim": "task", "release": 409, "decide": 409, "reassign": 404, "extend": 404,
        "verify_applicant": 200,
    },
    "supervisor": {
        "queue": 200, "task": 200, "claim": "task", "release": 409, "decide": 409, "reassign": "task", "extend": "task",
        "verify_applicant": 200,
    },
}  # fmt: skip


def link(page: str, rel: str) -> str:
    import html
    import re

    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else ""


def post_decision(client: Client, task: WorkflowTask, **data: Any) -> Any:
    assert client.post(en("workbench:claim", task.pk)).status_code == 302
    return client.post(en("workbench:decide", task.pk), data)


def registry_log() -> list[tuple[Any, ...]]:
    return list(
        DataAccessLog.objects.order_by("pk").values_list(
            "actor_id", "department_id", "resource", "method", "record_key", "purpose", "result"
        )
    )


def for_the_enterprise(task: WorkflowTask) -> Enterprise:
    make_yiwang_technology()
    enterprise = Enterprise.objects.create(
        uscc=YIWANG_TECHNOLOGY.uscc, name=YIWANG_TECHNOLOGY.name, kind=YIWANG_TECHNOLOGY.kind
    )
    Application.objects.filter(pk=task.application_id).update(acting_for=enterprise)
    return enterprise


def parallel_item(department: Department, other_department: Department) -> ServiceItem:
    """受理 by the implementing department, then a review by it and by 宁波市民政局 side by side."""
    make_wang_household()
    review = {"results": ["同意", "不同意"], "share": 1}
    workflow = {
        "stages": [
            {
                "key": "accept",
                "tasks": [{"key": "accept", "name": "受理", "results": ["受理", "不予受理", "补齐补正"]}],
            },
            {
                "key": "review",
                "join": "all",
                "tasks": [
                    {"key": "market", "name": "市场监管审查", "department": {"rule": "implementing"}, **review},
                    {
                        "key": "civil",
                        "name": "民政审查",
                        "department": {"rule": "fixed", "uscc": other_department.uscc},
                        **review,
                    },
                ],
            },
        ]
    }
    return make_applicable_item(department=department, workflow=workflow)


def civil_task(citizen: User, item: ServiceItem, clerk: User) -> WorkflowTask:
    """The 民政审查 task of ``parallel_item``, waiting for 宁波市民政局 once the clerk accepted."""
    return WorkflowTask.objects.get(application=accepted(citizen, item, clerk), task_key="civil")
