"""The clerk's workbench pages without JavaScript: who may see what, the queue, one task."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import StaffRole
from approvals.models import ApplicationView
from approvals.workbench import actions as workbench_actions
from demo.registry_data import WANG_XIAOMING
from tests.approvals.workbench.helpers import (
    EXPECTED,
    PAGES,
    client_of,
    en,
    first_task,
    link,
    mixed_queue,
    queue_of_two_departments,
    queued_task,
    rows,
    task_in_review,
)
from tests.factories import staff_member
from tests.helpers import QUEUE_QUERIES, assert_query_count, get_counting_queries

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


# --- who may see what -----------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(item, citizen):
    task = first_task(citizen, item)

    for url in (en("workbench:queue"), en("workbench:task", task.pk)):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login") + "?next=")


@pytest.mark.parametrize("who", list(EXPECTED))
def test_the_authorisation_matrix_of_every_page(request, who, item, citizen, clerk, other_clerk, supervisor):
    colleague = staff_member("colleague@example.com", item.department, StaffRole.CLERK)
    task = task_in_review(citizen, item, colleague)
    user = clerk if who == "clerk_without_totp" else request.getfixturevalue(who)
    client = client_of(user, totp=who != "clerk_without_totp")
    posts = {
        "claim": {},
        "release": {},
        "decide": {"result": "同意"},
        "reassign": {"assignee": ""},
        "extend": {"days": "2", "reason": "需要现场核查。"},
        "verify_applicant": {},
    }

    for page in PAGES:
        url = en("workbench:queue") if page == "queue" else en(f"workbench:{page}", task.pk)
        response = client.post(url, posts[page]) if page in posts else client.get(url)
        expected = EXPECTED[who][page]
        if expected == "mfa":
            assert (page, response.status_code, response["Location"]) == (page, 302, reverse("mfa_activate_totp"))
        elif expected == "task":
            assert (page, response.status_code, response["Location"]) == (page, 302, en("workbench:task", task.pk))
        else:
            assert (page, response.status_code) == (page, expected)
        if page == "queue" and expected == 200:
            shown = task.application.number in response.content.decode()
            assert shown is (who != "other_clerk")
        if page == "claim" and expected == "task":
            workbench_actions.task_release(
                task_id=task.pk, clerk=request.getfixturevalue(who)
            )  # the next page sees it waiting


def test_the_queue_is_in_chinese_by_default_and_links_to_the_counter(clerk):
    response = client_of(clerk).get("/workbench/")

    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-Hans">' in page
    assert 'href="/workbench/counter/"' in page
    # the pages approvals.urls keeps under /workbench/ still answer
    assert client_of(clerk).get("/workbench/counter/").status_code == 200


# --- the queue --------------------------------------------------------------------


def test_the_queue_shows_open_tasks_by_due_time_with_red_and_amber_marks(item, clerk, other_department):
    queue = mixed_queue(item, other_department)

    page = client_of(clerk).get(en("workbench:queue")).content.decode()

    assert rows(page) == [task.application.number for task in (queue.overdue, queue.soon, queue.later)]
    overdue_row, soon_row, later_row = (
        page.split('<tr class="row-overdue">')[1],
        page.split('<tr class="row-soon">')[1],
        page.split(queue.later.application.number)[1],
    )
    # the mark is words first, the colour a second cue
    assert "Red: overdue" in overdue_row.split("</tr>")[0]
    assert "周敏" in overdue_row.split("</tr>")[0]
    assert "Amber: due within 1 working day" in soon_row.split("</tr>")[0]
    assert "Waiting" in soon_row.split("</tr>")[0]
    assert "Red: overdue" not in later_row.split("</tr>")[0]
    assert "Amber" not in later_row.split("</tr>")[0]
    for text in ("居住证明开具", "受理", item.department.name, 'All open <span class="count">(3)</span>'):
        assert text in page


def test_the_filters_and_the_counts_per_status(item, clerk, other_department):
    now = timezone.now()
    mine, theirs, waiting, elsewhere, other_item = queue_of_two_departments(item, clerk, other_department, now)
    client = client_of(clerk)

    def shown(query: str) -> list[str]:
        response = client.get(en("workbench:queue", query=query))
        assert response.status_code == 200
        return rows(response.content.decode())

    number = {task: task.application.number for task in (mine, theirs, waiting, elsewhere)}
    assert shown("") == [number[theirs], number[waiting], number[mine], number[elsewhere]]
    assert shown("status=pending") == [number[waiting], number[elsewhere]]
    assert shown("status=mine") == [number[mine]]
    assert shown("status=claimed") == [number[theirs], number[mine]]
    assert shown("due=overdue") == [number[theirs]]
    assert shown("due=soon") == [number[waiting]]
    assert shown(f"department={other_department.uscc}") == [number[elsewhere]]
    assert shown(f"item={other_item.implementation_code}") == [number[elsewhere]]
    assert shown(f"department={item.department.uscc}&status=pending") == [number[waiting]]
    # the counts keep the other filters and show each status
    page = client.get(en("workbench:queue", query=f"department={item.department.uscc}")).content.decode()
    for label, count in (("All open", 3), ("Waiting", 1), ("Mine", 1), ("Being handled", 2)):
        assert f'{label} <span class="count">({count})</span>' in page


def test_a_filter_that_is_not_valid_is_said_and_ignored(item, clerk, other_department):
    queued_task(item, timezone.now())
    client = client_of(clerk)

    response = client.get(en("workbench:queue", query=f"department={other_department.uscc}&status=everything"))

    page = response.content.decode()
    assert response.status_code == 400
    assert "Choose one of your departments." in page
    assert 'aria-invalid="true" aria-describedby="field-status-error"' in page
    assert len(rows(page)) == 1


def test_the_queue_pages_by_due_time_and_id_with_next_and_previous_links(item, clerk):
    due = timezone.now() + datetime.timedelta(days=3)
    # 45 tasks, five of them due at the same moment across the page boundary
    tasks = [queued_task(item, due + datetime.timedelta(minutes=minute)) for minute in range(18)]
    tasks += [queued_task(item, due + datetime.timedelta(minutes=18)) for _each in range(5)]
    tasks += [queued_task(item, due + datetime.timedelta(minutes=minute)) for minute in range(19, 41)]
    expected = [task.application.number for task in sorted(tasks, key=lambda task: (task.due_at, task.pk))]
    client = client_of(clerk)

    first = client.get(en("workbench:queue")).content.decode()
    next_url = link(first, "next")
    second_response, queries = get_counting_queries(client, next_url)
    second = second_response.content.decode()
    third = client.get(link(second, "next")).content.decode()
    back = client.get(link(second, "prev")).content.decode()

    assert rows(first) == expected[:20]
    assert link(first, "prev") == ""
    assert rows(second) == expected[20:40]
    assert rows(third) == expected[40:]
    assert link(third, "next") == ""
    assert rows(back) == expected[:20]
    assert link(back, "prev") == ""
    assert not any("OFFSET" in sql.upper() for sql in queries)


@pytest.mark.parametrize("count", [3, 30])
def test_the_queue_costs_the_same_queries_however_long(count, item, clerk, other_department):
    now = timezone.now()
    colleagues = [staff_member(f"c{n}@example.com", item.department, StaffRole.CLERK) for n in range(3)]
    for number in range(count):
        assignee = colleagues[number % 3] if number % 2 else None
        queued_task(item, now + datetime.timedelta(hours=number - 5), assignee=assignee)
    client = client_of(clerk)

    response, queries = get_counting_queries(client, en("workbench:queue"))

    assert response.status_code == 200
    assert len(rows(response.content.decode())) == min(count, 20)
    assert_query_count(queries, QUEUE_QUERIES)


# --- one task ---------------------------------------------------------------------


def test_the_task_page_shows_the_application_whole_and_each_view_is_kept(item, citizen, clerk):
    task = first_task(citizen, item)
    client = client_of(clerk)

    page = client.get(en("workbench:task", task.pk)).content.decode()
    client.get(en("workbench:task", task.pk))

    application = task.application
    assert WANG_XIAOMING.id_number in page  # the identity whole, to the handling department
    assert "王小明" in page
    assert "办理入学手续需要。" in page  # an answer
    attachment = application.attachments.get(material_code="photo")
    file_url = reverse("approvals:staff_attachment", args=[attachment.public_id])
    assert f'href="{file_url}"' in page
    assert "Application submitted" in page  # the timeline
    assert "Claim this task" in page
    views = list(ApplicationView.objects.values_list("application_id", "viewer_id", "department_id"))
    assert views == [(application.pk, clerk.pk, item.department_id)] * 2
    assert client.get(file_url).status_code == 200


def test_the_task_page_lists_the_other_tasks_of_the_application(item, citizen, clerk):
    review = task_in_review(citizen, item, clerk)

    page = client_of(clerk).get(en("workbench:task", review.pk)).content.decode()

    table = page.split("Tasks of this application</caption>")[1].split("</table>")[0]
    assert table.index("受理") < table.index("审查")
    assert "Done" in table
    assert "(this task)" in table
