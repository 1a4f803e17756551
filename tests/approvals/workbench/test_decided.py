"""已办 (the tasks a clerk's departments decided) and the queue while routing moves a decision on."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import StaffRole, User
from approvals.models import Outbox, WorkflowTask
from services.models import Department, ServiceItem
from tests.approvals.helpers import route
from tests.approvals.workbench.helpers import client_of, en, first_task, link, post_decision, queued_task, rows
from tests.factories import staff_member
from tests.helpers import assert_query_count, get_counting_queries

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


def _decided(
    item: ServiceItem,
    finished_at: datetime.datetime,
    *,
    by: User | None,
    department: Department | None = None,
    result: str = "受理",
) -> WorkflowTask:
    task = queued_task(item, finished_at, department=department, status=WorkflowTask.Status.DONE)
    WorkflowTask.objects.filter(pk=task.pk).update(finished_at=finished_at, decided_by=by, result=result)
    return task


def _number(task: WorkflowTask) -> str:
    return task.application.number or ""


def test_the_decided_list_shows_the_departments_decisions_latest_first_with_result_and_who(
    item, clerk, other_department
):
    now = timezone.now()
    colleague = staff_member("colleague@example.com", item.department, StaffRole.CLERK, full_name="周敏")
    older = _decided(item, now - datetime.timedelta(days=2), by=clerk, result="不予受理")
    newer = _decided(item, now - datetime.timedelta(hours=1), by=colleague)
    queued_task(item, now)  # still open: in the queue, not here
    queued_task(item, now, status=WorkflowTask.Status.CANCELLED)
    _decided(item, now, by=None, department=other_department)  # another department's

    response = client_of(clerk).get(en("workbench:done"))
    page = response.content.decode()

    assert response.status_code == 200
    assert rows(page) == [_number(newer), _number(older)]
    assert "周敏" in page
    assert "<strong>You</strong>" in page
    assert "Do not accept (不予受理)" in page
    assert "Accept (受理)" in page


def test_decided_by_me_keeps_only_the_clerks_own_decisions(item, clerk):
    colleague = staff_member("colleague@example.com", item.department, StaffRole.CLERK)
    mine = _decided(item, timezone.now(), by=clerk)
    _decided(item, timezone.now(), by=colleague)

    page = client_of(clerk).get(en("workbench:done", query="who=mine")).content.decode()

    assert rows(page) == [_number(mine)]
    assert 'aria-current="page">Decided by me</a>' in page


def test_a_bad_filter_is_reported_and_ignored(item, clerk):
    task = _decided(item, timezone.now(), by=clerk)

    response = client_of(clerk).get(en("workbench:done", query="who=everyone"))
    page = response.content.decode()

    assert response.status_code == 400
    assert '<a href="#field-who">Choose one of: mine.</a>' in page
    assert rows(page) == [_number(task)]


def test_the_decided_list_pages_by_finishing_time_at_the_same_cost(item, clerk):
    start = timezone.now() - datetime.timedelta(days=1)
    tasks = [_decided(item, start + datetime.timedelta(minutes=minute), by=clerk) for minute in range(45)]
    latest_first = [_number(task) for task in reversed(tasks)]
    client = client_of(clerk)

    first, first_queries = get_counting_queries(client, en("workbench:done"))
    second = client.get(link(first.content.decode(), "next"))
    third, third_queries = get_counting_queries(client, link(second.content.decode(), "next"))

    assert rows(first.content.decode()) == latest_first[:20]
    assert rows(second.content.decode()) == latest_first[20:40]
    assert rows(third.content.decode()) == latest_first[40:]
    assert link(third.content.decode(), "next") == ""
    assert "Latest decisions" in third.content.decode()
    assert_query_count(third_queries, len(first_queries))


def test_only_staff_see_the_decided_list_and_only_of_their_departments(item, citizen, other_clerk, clerk):
    _decided(item, timezone.now(), by=clerk)

    assert Client().get(en("workbench:done")).status_code == 302
    assert client_of(citizen).get(en("workbench:done")).status_code == 404
    other = client_of(other_clerk).get(en("workbench:done"))
    assert other.status_code == 200
    assert rows(other.content.decode()) == []
    assert "Your departments have not decided any task yet." in other.content.decode()


def test_the_chinese_page_is_called_yiban_and_the_queue_links_to_it(item, clerk):
    client = client_of(clerk)

    queue_page = client.get("/workbench/").content.decode()
    done_page = client.get("/workbench/done/").content.decode()

    assert '<a href="/workbench/done/">已办</a>' in queue_page
    assert "<h1>已办</h1>" in done_page
    assert "您所在的部门尚未办结任何环节。" in done_page


# --- the queue just after a decision --------------------------------------------------------


def test_after_a_decision_the_queue_says_the_next_stage_is_being_routed_until_it_is(
    item, citizen, clerk, other_department, unsent
):
    accept = first_task(citizen, item)
    # another department's decision waiting for routing is none of this clerk's business
    elsewhere = _decided(item, timezone.now(), by=None, department=other_department)
    promise = Outbox.objects.create(kind=Outbox.Kind.ROUTE, application=elsewhere.application)
    client = client_of(clerk)

    response = post_decision(client, accept, result="受理")
    assert response.status_code == 302
    waiting = client.get(en("workbench:queue")).content.decode()

    assert rows(waiting) == []
    assert "1 application your departments decided is being routed to its next stage" in waiting
    assert "Your departments have no open tasks." not in waiting
    chinese = client.get("/workbench/").content.decode()
    assert "您所在部门办理的 1 件申请正在流转到下一环节" in chinese

    Outbox.objects.filter(pk=promise.pk).update(processed_at=timezone.now())
    route()
    routed = client.get(en("workbench:queue")).content.decode()

    assert rows(routed) == [_number(accept)]
    assert "being routed" not in routed


def test_an_empty_queue_with_nothing_being_routed_says_there_is_nothing_to_do(item, clerk):
    page = client_of(clerk).get(en("workbench:queue")).content.decode()

    assert "Your departments have no open tasks." in page
    assert "being routed" not in page
