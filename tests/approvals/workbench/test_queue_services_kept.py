"""The queue page's cheap path: the services to filter by are kept a few seconds, the counts and rows never."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.models import StaffMembership, StaffRole
from approvals.models import WorkflowTask
from approvals.workbench import actions as workbench_actions
from services.models import ServiceItem
from tests.approvals.builders import make_applicable_item
from tests.approvals.workbench.helpers import client_of, en, queued_task, rows
from tests.factories import staff_member
from tests.helpers import QUEUE_QUERIES, assert_query_count, get_counting_queries

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


def counts(page: str) -> dict[str, int]:
    """The count of each status link, by its English label."""
    return {label: int(number) for label, number in re.findall(r'>([A-Za-z ]+) <span class="count">\((\d+)\)', page)}


def services(page: str) -> list[str]:
    """The 实施编码 the service filter offers."""
    select = page.split('id="field-item"')[1].split("</select>")[0]
    return re.findall(r'<option value="([0-9A-Z]+)"', select)


def test_the_counts_are_read_again_while_the_services_are_kept(item, clerk, department):
    now = timezone.now()
    colleague = staff_member("colleague@example.com", department, StaffRole.CLERK)
    waiting = queued_task(item, now + datetime.timedelta(hours=1))
    queued_task(item, now + datetime.timedelta(hours=2), assignee=colleague)
    client = client_of(clerk)
    first = client.get(en("workbench:queue")).content.decode()
    assert counts(first) == {"All open": 2, "Waiting": 1, "Mine": 0, "Being handled": 1}

    # the clerk claims a task, and a task of a service not yet listed arrives
    workbench_actions.task_claim(task_id=waiting.pk, clerk=clerk)
    other_item = make_applicable_item(department=department, basic_code="000120000009")
    newcomer = queued_task(other_item, now + datetime.timedelta(minutes=30))
    response, queries = get_counting_queries(client, en("workbench:queue"))

    page = response.content.decode()
    assert counts(page) == {"All open": 3, "Waiting": 1, "Mine": 1, "Being handled": 2}
    assert rows(page)[0] == newcomer.application.number
    # the services are the kept ones until they are read again
    assert services(page) == [item.implementation_code]
    assert_query_count(queries, QUEUE_QUERIES)
    cache.clear()
    assert services(client.get(en("workbench:queue")).content.decode()) == sorted(
        [item.implementation_code, other_item.implementation_code],
        key=lambda code: ServiceItem.objects.get(implementation_code=code).name,
    )


@pytest.mark.parametrize("query", ["", "status=pending", "due=overdue", "due=soon", "department={uscc}"])
def test_the_counts_are_the_same_whether_the_services_are_kept_or_not(query, item, clerk, department):
    now = timezone.now()
    colleague = staff_member("colleague@example.com", department, StaffRole.CLERK)
    other_item = make_applicable_item(department=department, basic_code="000120000009")
    for hours, task_item, assignee in (
        (-3, item, clerk),
        (-1, other_item, None),
        (2, item, colleague),
        (30, other_item, clerk),
        (200, item, None),
    ):
        queued_task(task_item, now + datetime.timedelta(hours=hours), assignee=assignee)
    queued_task(item, now - datetime.timedelta(days=2), status=WorkflowTask.Status.DONE)
    client = client_of(clerk)
    filters = query.format(uscc=department.uscc)

    for item_filter in ("", f"item={other_item.implementation_code}"):
        url = en("workbench:queue", query="&".join(part for part in (filters, item_filter) if part))
        cache.clear()
        fresh = client.get(url).content.decode()
        kept = client.get(url).content.decode()

        assert counts(kept) == counts(fresh)
        assert services(kept) == services(fresh)
        assert rows(kept) == rows(fresh)


def test_the_counts_of_each_status_on_the_cheap_path(item, clerk, department):
    now = timezone.now()
    colleague = staff_member("colleague@example.com", department, StaffRole.CLERK)
    other_item = make_applicable_item(department=department, basic_code="000120000009")
    queued_task(item, now - datetime.timedelta(hours=3), assignee=clerk)
    queued_task(item, now + datetime.timedelta(hours=3), assignee=colleague)
    queued_task(item, now + datetime.timedelta(days=9))
    queued_task(other_item, now - datetime.timedelta(hours=1))
    queued_task(other_item, now + datetime.timedelta(days=9), assignee=clerk)
    client = client_of(clerk)
    client.get(en("workbench:queue"))  # the services are kept from here on

    everything = counts(client.get(en("workbench:queue")).content.decode())
    one_service = counts(
        client.get(en("workbench:queue", query=f"item={other_item.implementation_code}")).content.decode()
    )
    overdue = counts(client.get(en("workbench:queue", query="due=overdue")).content.decode())

    assert everything == {"All open": 5, "Waiting": 2, "Mine": 2, "Being handled": 3}
    assert one_service == {"All open": 2, "Waiting": 1, "Mine": 1, "Being handled": 1}
    assert overdue == {"All open": 2, "Waiting": 1, "Mine": 1, "Being handled": 1}


def test_a_department_left_is_not_served_from_the_kept_services(item, clerk, department, other_department):
    other_item = make_applicable_item(department=other_department, basic_code="000120000009")
    queued_task(item, timezone.now())
    queued_task(other_item, timezone.now())
    membership = StaffMembership.objects.create(user=clerk, department=other_department, role=StaffRole.CLERK)
    client = client_of(clerk)
    assert len(services(client.get(en("workbench:queue")).content.decode())) == 2

    membership.delete()
    page = client.get(en("workbench:queue")).content.decode()

    assert services(page) == [item.implementation_code]
    assert counts(page)["All open"] == 1


def test_a_row_reads_only_the_columns_it_shows(item, clerk, department):
    colleague = staff_member("colleague@example.com", department, StaffRole.CLERK, full_name="周敏")
    queued_task(item, timezone.now(), assignee=colleague)
    client = client_of(clerk)

    response, queries = get_counting_queries(client, en("workbench:queue"))

    page_query = next(sql for sql in queries if "ORDER BY" in sql and "approvals_workflowtask" in sql)
    for large in ('"approvals_application"."data"', '"services_serviceitem"."form_schema"', '"opinion"'):
        assert large not in page_query
    assert "周敏" in response.content.decode()
    assert_query_count(queries, QUEUE_QUERIES)
