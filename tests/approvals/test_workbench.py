"""The clerk's workbench pages without JavaScript: queue, task, claim, release, decide, reassign, extend, checks."""

from __future__ import annotations

import datetime
import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from accounts import actions as account_actions
from accounts.models import Enterprise, StaffMembership, StaffRole, User
from approvals.models import Application, ApplicationEvent, ApplicationView, Outbox, WorkflowTask
from approvals.routing import deadlines, engine
from approvals.workbench import actions as workbench_actions
from datahub.demo_data import LI_JIANGUO, WANG_XIAOMING, YIWANG_TECHNOLOGY
from datahub.models import DataAccessLog, LegalPersonRecord
from interaction.models import Message
from services.models import Department, ServiceItem
from tests.approvals.builders import make_applicable_item, submitted
from tests.datahub.builders import make_wang_household, make_yiwang_technology
from tests.factories import enroll_totp, staff_member
from tests.helpers import assert_query_count, get_counting_queries

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

QUEUE_QUERIES = 9  # the page's whole cost, whatever the queue's length (pinned below)


@pytest.fixture(autouse=True)
def upload_root(settings: Any, tmp_path: Path) -> Path:
    settings.UPLOAD_ROOT = tmp_path / "uploads"
    settings.UPLOAD_SCANNER = "approvals.uploads.NoScanner"
    return settings.UPLOAD_ROOT


@pytest.fixture
def item(department: Department) -> ServiceItem:
    make_wang_household()
    return make_applicable_item(department=department)


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


def route() -> None:
    """Do now what the routing worker does after each commit."""
    for outbox_id in Outbox.objects.filter(processed_at__isnull=True).order_by("pk").values_list("pk", flat=True):
        engine.outbox_process(outbox_id=outbox_id)


def first_task(citizen: User, item: ServiceItem) -> WorkflowTask:
    """A submitted application, routed: its 受理 task waits in the department's queue."""
    application = submitted(citizen, item)
    route()
    return application.tasks.get()


def task_in_review(citizen: User, item: ServiceItem, clerk: User) -> WorkflowTask:
    """An accepted application whose 审查 task waits (the application has its due date)."""
    accept = first_task(citizen, item)
    workbench_actions.task_claim(task_id=accept.pk, clerk=clerk)
    workbench_actions.task_decide(task_id=accept.pk, clerk=clerk, result="受理")
    route()
    return WorkflowTask.objects.get(application=accept.application, stage_key="review")


_numbers = iter(range(1, 10_000))


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
    number = f"{item.implementation_code}20250101{next(_numbers):04d}"
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


def rows(page: str) -> list[str]:
    """The application numbers of the queue's rows, in order."""
    import re

    return re.findall(r'<th scope="row"[^>]*><a href="[^"]+">([0-9A-Z]{43})</a>', page)


# --- who may see what -----------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(item, citizen):
    task = first_task(citizen, item)

    for url in (en("workbench:queue"), en("workbench:task", task.pk)):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login") + "?next=")


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
    now = timezone.now()
    colleague = staff_member("colleague@example.com", item.department, StaffRole.CLERK, full_name="周敏")
    later = queued_task(item, now + datetime.timedelta(days=30))
    overdue = queued_task(item, now - datetime.timedelta(hours=2), assignee=colleague)
    soon = queued_task(item, now + datetime.timedelta(minutes=5))
    queued_task(item, now - datetime.timedelta(days=3), status=WorkflowTask.Status.DONE)
    queued_task(item, now - datetime.timedelta(days=3), status=WorkflowTask.Status.CANCELLED)
    queued_task(item, now - datetime.timedelta(days=3), department=other_department)

    page = client_of(clerk).get(en("workbench:queue")).content.decode()

    assert rows(page) == [overdue.application.number, soon.application.number, later.application.number]
    overdue_row, soon_row, later_row = (
        page.split('<tr class="row-overdue">')[1],
        page.split('<tr class="row-soon">')[1],
        page.split(later.application.number)[1],
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
    StaffMembership.objects.create(user=clerk, department=other_department, role=StaffRole.CLERK)
    colleague = staff_member("colleague@example.com", item.department, StaffRole.CLERK)
    other_item = make_applicable_item(department=other_department, basic_code="000120000009")
    mine = queued_task(item, now + datetime.timedelta(days=20), assignee=clerk)
    theirs = queued_task(item, now - datetime.timedelta(hours=1), assignee=colleague)
    waiting = queued_task(item, now + datetime.timedelta(minutes=30))
    elsewhere = queued_task(other_item, now + datetime.timedelta(days=40))
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
    next_url = _link(first, "next")
    second_response, queries = get_counting_queries(client, next_url)
    second = second_response.content.decode()
    third = client.get(_link(second, "next")).content.decode()
    back = client.get(_link(second, "prev")).content.decode()

    assert rows(first) == expected[:20]
    assert _link(first, "prev") == ""
    assert rows(second) == expected[20:40]
    assert rows(third) == expected[40:]
    assert _link(third, "next") == ""
    assert rows(back) == expected[:20]
    assert _link(back, "prev") == ""
    assert not any("OFFSET" in sql.upper() for sql in queries)


def _link(page: str, rel: str) -> str:
    import html
    import re

    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else ""


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


# --- claim, release -----------------------------------------------------------------


def test_a_clerk_claims_and_someone_else_after_them_is_sent_back_to_the_queue(item, citizen, clerk):
    task = first_task(citizen, item)
    colleague = staff_member("colleague@example.com", item.department, StaffRole.CLERK)
    mine, theirs = client_of(clerk), client_of(colleague)

    claimed = mine.post(en("workbench:claim", task.pk))
    late = theirs.post(en("workbench:claim", task.pk))

    assert claimed["Location"] == en("workbench:task", task.pk)
    assert late.status_code == 302
    assert late["Location"] == en("workbench:queue")
    queue_page = theirs.get(late["Location"]).content.decode()
    assert "This task is no longer waiting: someone else took it or it is done." in queue_page
    task.refresh_from_db()
    assert (task.status, task.assignee) == (WorkflowTask.Status.CLAIMED, clerk)


def test_a_clerk_claiming_a_task_they_hold_already_is_told_so(item, citizen, clerk):
    task = first_task(citizen, item)
    client = client_of(clerk)
    client.post(en("workbench:claim", task.pk))
    task.refresh_from_db()
    claimed_at = task.claimed_at

    again = client.post(en("workbench:claim", task.pk))

    assert again["Location"] == en("workbench:task", task.pk)
    assert "You already hold this task." in client.get(again["Location"]).content.decode()
    task.refresh_from_db()
    assert (task.status, task.assignee, task.claimed_at) == (WorkflowTask.Status.CLAIMED, clerk, claimed_at)


def test_a_clerk_releases_a_task_and_cannot_release_one_they_do_not_hold(item, citizen, clerk):
    task = first_task(citizen, item)
    colleague = staff_member("colleague@example.com", item.department, StaffRole.CLERK)
    workbench_actions.task_claim(task_id=task.pk, clerk=colleague)

    refused = client_of(clerk).post(en("workbench:release", task.pk))
    released = client_of(colleague).post(en("workbench:release", task.pk))

    assert refused.status_code == 409
    assert "You do not hold this task." in refused.content.decode()
    assert released["Location"] == en("workbench:queue")
    task.refresh_from_db()
    assert (task.status, task.assignee) == (WorkflowTask.Status.PENDING, None)


# --- decide ----------------------------------------------------------------------------


def _decide(client: Client, task: WorkflowTask, **data: Any) -> Any:
    assert client.post(en("workbench:claim", task.pk)).status_code == 302
    return client.post(en("workbench:decide", task.pk), data)


def test_an_application_goes_through_accept_review_and_decision_to_completed(item, citizen, clerk):
    client = client_of(clerk)
    accept = first_task(citizen, item)
    application = accept.application

    response = _decide(client, accept, result="受理")
    assert response["Location"] == en("workbench:queue")
    route()
    review = WorkflowTask.objects.get(application=application, stage_key="review")
    assert Application.objects.get(pk=application.pk).status == Application.Status.IN_REVIEW

    _decide(client, review, result="同意", opinion="材料齐全。")
    route()
    decide = WorkflowTask.objects.get(application=application, stage_key="decide")
    _decide(client, decide, result="同意")
    route()

    application.refresh_from_db()
    assert application.status == Application.Status.COMPLETED
    assert application.outcome == "0"
    assert list(
        application.tasks.order_by("stage_index").values_list("stage_key", "status", "result", "decided_by")
    ) == [
        ("accept", "done", "受理", clerk.pk),
        ("review", "done", "同意", clerk.pk),
        ("decide", "done", "同意", clerk.pk),
    ]
    assert Message.objects.filter(recipient=citizen, event="application_decided").count() == 1
    assert rows(client.get(en("workbench:queue")).content.decode()) == []


def test_a_supplement_request_asks_the_applicant_and_waits_for_them(item, citizen, clerk):
    task = first_task(citizen, item)

    response = _decide(
        client_of(clerk),
        task,
        result="补齐补正",
        opinion="请重新上传清晰的证件照片，并补充申请事由。",
        supplement_fields=["reason"],
        supplement_materials=["photo"],
    )
    route()

    assert response["Location"] == en("workbench:queue")
    application = Application.objects.get(pk=task.application_id)
    assert application.status == Application.Status.SUPPLEMENT_REQUESTED
    assert application.supplement_request == {
        "fields": ["reason"],
        "materials": ["photo"],
        "note": "请重新上传清晰的证件照片，并补充申请事由。",
    }
    message = Message.objects.get(recipient=citizen, event="application_supplement_requested")
    assert message.context["items"] == "请重新上传清晰的证件照片，并补充申请事由。"
    assert not WorkflowTask.objects.filter(application=application, status__in=WorkflowTask.OPEN).exists()


def test_a_supplement_request_without_what_is_needed_changes_nothing(item, citizen, clerk):
    task = first_task(citizen, item)

    response = _decide(client_of(clerk), task, result="补齐补正", opinion="请补充材料。")

    assert response.status_code == 400
    assert "Say which answers or materials are needed." in response.content.decode()
    task.refresh_from_db()
    assert (task.status, task.application.status) == (WorkflowTask.Status.CLAIMED, Application.Status.SUBMITTED)


def test_a_refusal_without_an_opinion_is_refused_and_nothing_changes(item, citizen, clerk):
    review = task_in_review(citizen, item, clerk)
    client = client_of(clerk)
    client.post(en("workbench:claim", review.pk))
    counts = (ApplicationEvent.objects.count(), Outbox.objects.count(), Message.objects.count())

    response = client.post(en("workbench:decide", review.pk), {"result": "不同意", "opinion": "   "})

    page = response.content.decode()
    assert response.status_code == 400
    assert "Give the reasons for this result." in page
    assert 'id="field-opinion-error"' in page
    assert '<input type="radio" name="result" value="不同意" required checked>' in page  # what was chosen stays
    review.refresh_from_db()
    assert (review.status, review.result, review.assignee) == (WorkflowTask.Status.CLAIMED, "", clerk)
    assert (ApplicationEvent.objects.count(), Outbox.objects.count(), Message.objects.count()) == counts


def test_a_result_the_task_does_not_allow_is_refused(item, citizen, clerk):
    task = first_task(citizen, item)

    response = _decide(client_of(clerk), task, result="同意")
    missing = client_of(clerk).post(en("workbench:decide", task.pk), {})

    assert response.status_code == 400
    assert "Choose one of the results this task allows." in response.content.decode()
    assert missing.status_code == 400
    assert "Choose a result." in missing.content.decode()
    task.refresh_from_db()
    assert task.status == WorkflowTask.Status.CLAIMED


def test_the_decide_form_offers_the_allowed_results_and_what_a_supplement_may_ask(item, citizen, clerk):
    task = first_task(citizen, item)
    client = client_of(clerk)
    client.post(en("workbench:claim", task.pk))

    page = client.get(en("workbench:task", task.pk)).content.decode()

    form = page.split('action="' + en("workbench:decide", task.pk) + '"')[1].split("</form>")[0]
    assert form.count('type="radio" name="result"') == 3
    for value in ("受理", "不予受理", "补齐补正"):
        assert f'value="{value}"' in form
    assert 'name="supplement_fields" value="reason"' in form
    assert 'name="supplement_materials" value="photo"' in form
    assert "Put it back in the queue" in page


# --- the supervisor: reassign and extend -------------------------------------------------


def test_a_supervisor_reassigns_a_task_and_takes_it_back_to_the_queue(item, citizen, clerk, other_clerk, supervisor):
    task = first_task(citizen, item)
    client = client_of(supervisor)

    given = client.post(en("workbench:reassign", task.pk), {"assignee": str(clerk.pk)})
    task.refresh_from_db()
    assert given["Location"] == en("workbench:task", task.pk)
    assert (task.status, task.assignee) == (WorkflowTask.Status.CLAIMED, clerk)

    outsider = client.post(en("workbench:reassign", task.pk), {"assignee": str(other_clerk.pk)})
    assert outsider.status_code == 400
    assert "Not a member of this department." in outsider.content.decode()
    task.refresh_from_db()
    assert task.assignee == clerk

    back = client.post(en("workbench:reassign", task.pk), {"assignee": ""})
    task.refresh_from_db()
    assert back.status_code == 302
    assert (task.status, task.assignee) == (WorkflowTask.Status.PENDING, None)


def test_only_a_supervisor_sees_and_uses_reassign_and_extend(item, citizen, clerk, supervisor):
    review = task_in_review(citizen, item, clerk)

    clerk_page = client_of(clerk).get(en("workbench:task", review.pk)).content.decode()
    supervisor_page = client_of(supervisor).get(en("workbench:task", review.pk)).content.decode()

    for form in ("workbench:reassign", "workbench:extend"):
        assert en(form, review.pk) not in clerk_page
        assert en(form, review.pk) in supervisor_page
    assert client_of(clerk).post(en("workbench:extend", review.pk), {"days": "3", "reason": "x"}).status_code == 404


def test_a_supervisor_extends_by_at_most_ten_working_days_in_all(item, citizen, clerk, supervisor):
    review = task_in_review(citizen, item, clerk)
    application = review.application
    application.refresh_from_db()
    due_before = application.due_date
    client = client_of(supervisor)

    first = client.post(en("workbench:extend", review.pk), {"days": "4", "reason": "需要现场核查。"})
    application.refresh_from_db()
    assert first["Location"] == en("workbench:task", review.pk)
    assert application.extended_days == 4
    assert application.due_date > due_before

    too_many = client.post(en("workbench:extend", review.pk), {"days": "7", "reason": "仍需核查。"})
    no_reason = client.post(en("workbench:extend", review.pk), {"days": "2", "reason": ""})
    not_a_number = client.post(en("workbench:extend", review.pk), {"days": "two", "reason": "仍需核查。"})
    assert too_many.status_code == 400
    assert "6 are left" in too_many.content.decode()
    assert no_reason.status_code == 400
    assert "Give the reason" in no_reason.content.decode()
    assert not_a_number.status_code == 400
    application.refresh_from_db()
    assert application.extended_days == 4

    last = client.post(en("workbench:extend", review.pk), {"days": "6", "reason": "仍需核查。"})
    application.refresh_from_db()
    assert last.status_code == 302
    assert application.extended_days == 10
    assert ApplicationEvent.objects.filter(application=application, action="extended").count() == 2
    assert Message.objects.filter(recipient=citizen, event="application_extended").count() == 2
    # nothing is left: the form is no longer offered, and a day more is refused
    assert en("workbench:extend", review.pk) not in client.get(en("workbench:task", review.pk)).content.decode()
    assert client.post(en("workbench:extend", review.pk), {"days": "1", "reason": "再延。"}).status_code == 400


# --- registry checks and documents -------------------------------------------------------


def _registry_log() -> list[tuple[Any, ...]]:
    return list(
        DataAccessLog.objects.order_by("pk").values_list(
            "actor_id", "department_id", "resource", "method", "record_key", "purpose", "result"
        )
    )


def test_a_clerk_verifies_the_applicant_s_identity_and_the_read_is_logged_with_its_purpose(item, citizen, clerk):
    task = first_task(citizen, item)
    client = client_of(clerk)
    page = client.get(en("workbench:task", task.pk)).content.decode()
    assert en("workbench:verify_applicant", task.pk) in page
    assert en("workbench:lookup_enterprise", task.pk) not in page  # not made for an enterprise
    DataAccessLog.objects.all().delete()  # what submitting read

    response = client.post(en("workbench:verify_applicant", task.pk))

    number = task.application.number
    assert response.status_code == 200
    assert "Confirmed." in response.content.decode().split('id="registry-result"')[1].split("</div>")[0]
    assert _registry_log() == [
        (clerk.pk, item.department_id, "population", "verify", "3****************4", f"审查办件 {number}", "match")
    ]


def test_an_applicant_the_registry_does_not_confirm_is_said_so(item, citizen, clerk):
    task = first_task(citizen, item)
    Application.objects.filter(pk=task.application_id).update(applicant_name="王小名")
    DataAccessLog.objects.all().delete()

    response = client_of(clerk).post(en("workbench:verify_applicant", task.pk))

    result = response.content.decode().split('id="registry-result"')[1].split("</div>")[0]
    assert "Not confirmed." in result
    assert [(row[0], row[1], row[-1]) for row in _registry_log()] == [(clerk.pk, item.department_id, "mismatch")]


def _for_the_enterprise(task: WorkflowTask) -> Enterprise:
    make_yiwang_technology()
    enterprise = Enterprise.objects.create(
        uscc=YIWANG_TECHNOLOGY.uscc, name=YIWANG_TECHNOLOGY.name, kind=YIWANG_TECHNOLOGY.kind
    )
    Application.objects.filter(pk=task.application_id).update(acting_for=enterprise)
    return enterprise


def test_a_clerk_looks_up_the_enterprise_applied_for_in_the_legal_person_registry(item, citizen, clerk):
    task = first_task(citizen, item)
    _for_the_enterprise(task)
    client = client_of(clerk)
    assert en("workbench:lookup_enterprise", task.pk) in client.get(en("workbench:task", task.pk)).content.decode()
    DataAccessLog.objects.all().delete()

    response = client.post(en("workbench:lookup_enterprise", task.pk))

    result = response.content.decode().split('id="registry-result"')[1].split("</dl>")[0]
    assert response.status_code == 200
    for text in (
        "杭州一网科技有限公司",
        YIWANG_TECHNOLOGY.uscc,
        "李建国 (3****************",  # the representative's number as the registry gives it: masked
        "Active",
        YIWANG_TECHNOLOGY.address,
    ):
        assert text in result
    assert LI_JIANGUO.id_number not in response.content.decode()
    assert _registry_log() == [
        (
            clerk.pk,
            item.department_id,
            "legal_person",
            "lookup",
            YIWANG_TECHNOLOGY.uscc,
            f"审查办件 {task.application.number}",
            "found",
        )
    ]


def test_an_enterprise_the_registry_does_not_know_is_said_so(item, citizen, clerk):
    task = first_task(citizen, item)
    enterprise = _for_the_enterprise(task)
    LegalPersonRecord.objects.filter(uscc=enterprise.uscc).delete()

    response = client_of(clerk).post(en("workbench:lookup_enterprise", task.pk))

    assert "The legal person registry has no record with this credit code." in response.content.decode()
    assert _registry_log()[-1][-1] == "not_found"


def test_staff_of_another_department_cannot_run_the_checks_and_nothing_is_logged(
    item, citizen, other_clerk, other_department
):
    task = first_task(citizen, item)
    _for_the_enterprise(task)
    supervisor_elsewhere = staff_member("boss2@example.com", other_department, StaffRole.SUPERVISOR)
    before = _registry_log()

    for user in (other_clerk, supervisor_elsewhere):
        client = client_of(user)
        assert client.post(en("workbench:verify_applicant", task.pk)).status_code == 404
        assert client.post(en("workbench:lookup_enterprise", task.pk)).status_code == 404
    assert client_of(citizen).post(en("workbench:verify_applicant", task.pk)).status_code == 404
    assert _registry_log() == before


def test_the_checks_are_offered_only_while_the_task_is_open(item, citizen, clerk):
    task = first_task(citizen, item)
    _for_the_enterprise(task)
    workbench_actions.task_claim(task_id=task.pk, clerk=clerk)
    workbench_actions.task_decide(task_id=task.pk, clerk=clerk, result="受理")
    client = client_of(clerk)
    before = _registry_log()

    page = client.get(en("workbench:task", task.pk)).content.decode()
    verify = client.post(en("workbench:verify_applicant", task.pk))
    lookup = client.post(en("workbench:lookup_enterprise", task.pk))

    assert en("workbench:verify_applicant", task.pk) not in page
    assert en("workbench:lookup_enterprise", task.pk) not in page
    assert (verify.status_code, lookup.status_code) == (409, 409)
    assert "This task is no longer open" in verify.content.decode()
    assert _registry_log() == before


def test_the_task_page_links_the_application_s_documents(item, citizen, clerk):
    review = task_in_review(citizen, item, clerk)
    application = review.application
    client = client_of(clerk)

    page = client.get(en("workbench:task", review.pk)).content.decode()

    url = reverse("approvals:staff_document", args=[application.public_id, "acceptance"])
    assert f'href="{url}"' in page
    assert "受理通知书" in page
    download = client.get(url)
    assert (download.status_code, download["Content-Type"]) == (200, "application/pdf")


# --- leaving a department ------------------------------------------------------------------


def test_a_clerk_removed_from_the_department_loses_the_task_at_once_and_it_returns_to_the_queue(
    item, citizen, clerk, other_department
):
    StaffMembership.objects.create(user=clerk, department=other_department, role=StaffRole.CLERK)
    task = first_task(citizen, item)
    client = client_of(clerk)
    client.post(en("workbench:claim", task.pk))
    membership = StaffMembership.objects.get(user=clerk, department=item.department)

    account_actions.staff_membership_end(membership_id=membership.pk)

    assert client.get(en("workbench:task", task.pk)).status_code == 404
    assert client.post(en("workbench:decide", task.pk), {"result": "受理"}).status_code == 404
    assert rows(client.get(en("workbench:queue")).content.decode()) == []
    task.refresh_from_db()
    assert (task.status, task.assignee) == (WorkflowTask.Status.PENDING, None)


# --- two clerks at once ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql_only
def test_two_clerks_claiming_at_once_never_both_get_the_task(department, citizen, clerk):
    make_wang_household()
    item = make_applicable_item(department=department)
    task = first_task(citizen, item)
    colleague = staff_member("colleague@example.com", department, StaffRole.CLERK)
    clients = [client_of(clerk), client_of(colleague)]
    barrier = threading.Barrier(2)
    answers: list[Any] = [None, None]

    def claim(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            answers[index] = clients[index].post(en("workbench:claim", task.pk))["Location"]
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    task.refresh_from_db()
    assert sorted(answers) == sorted([en("workbench:task", task.pk), en("workbench:queue")])
    winner = [clerk, colleague][answers.index(en("workbench:task", task.pk))]
    assert (task.status, task.assignee) == (WorkflowTask.Status.CLAIMED, winner)


# --- a task of another department (并联审批) ------------------------------------------------------


def _parallel_item(department: Department, other_department: Department) -> ServiceItem:
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


def _civil_task(citizen: User, item: ServiceItem, clerk: User) -> WorkflowTask:
    accept = first_task(citizen, item)
    workbench_actions.task_claim(task_id=accept.pk, clerk=clerk)
    workbench_actions.task_decide(task_id=accept.pk, clerk=clerk, result="受理")
    route()
    return WorkflowTask.objects.get(application=accept.application, task_key="civil")


def test_a_clerk_of_a_department_in_a_parallel_stage_handles_its_task(
    department, other_department, citizen, clerk, other_clerk
):
    item = _parallel_item(department, other_department)
    civil = _civil_task(citizen, item, clerk)
    client = client_of(other_clerk)

    assert rows(client.get(en("workbench:queue")).content.decode()) == [civil.application.number]
    page = client.get(en("workbench:task", civil.pk)).content.decode()
    assert WANG_XIAOMING.id_number in page
    assert "市场监管审查" in page  # the sibling task of the other department is listed
    # the formal documents are open to every department with a task on the application
    document = reverse("approvals:staff_document", args=[civil.application.public_id, "acceptance"])
    assert document in page
    assert client.get(document).status_code == 200
    assert ApplicationView.objects.get().department_id == other_department.pk
    # the implementing department's clerk does not see the civil affairs task
    assert client_of(clerk).get(en("workbench:task", civil.pk)).status_code == 404
    _decide(client, civil, result="同意")
    civil.refresh_from_db()
    assert (civil.status, civil.result, civil.decided_by) == (WorkflowTask.Status.DONE, "同意", other_clerk)


def test_a_clerk_of_a_department_in_a_parallel_stage_opens_the_materials(
    department, other_department, citizen, clerk, other_clerk
):
    item = _parallel_item(department, other_department)
    civil = _civil_task(citizen, item, clerk)
    attachment = civil.application.attachments.get(material_code="photo")

    response = client_of(other_clerk).get(reverse("approvals:staff_attachment", args=[attachment.public_id]))

    assert response.status_code == 200


def test_an_overdue_task_escalates_to_the_supervisor_with_a_link_to_its_page(item, citizen, supervisor):
    task = first_task(citizen, item)
    WorkflowTask.objects.filter(pk=task.pk).update(due_at=timezone.now() - datetime.timedelta(minutes=1))

    deadlines.deadlines_sweep()

    message = Message.objects.get(recipient=supervisor, event="task_overdue")
    assert message.context["url"].endswith(f"/workbench/tasks/{task.pk}/")
    assert client_of(supervisor).get(message.context["url"]).status_code == 200


def test_a_supervisor_starts_and_ends_a_special_procedure_from_the_task_page(item, citizen, clerk, supervisor):
    review = task_in_review(citizen, item, clerk)
    application = review.application
    client = client_of(supervisor)
    assert en("workbench:suspend", review.pk) in client.get(en("workbench:task", review.pk)).content.decode()
    assert (
        en("workbench:suspend", review.pk) not in client_of(clerk).get(en("workbench:task", review.pk)).content.decode()
    )
    assert client_of(clerk).post(en("workbench:suspend", review.pk), {"procedure": "testing"}).status_code == 404

    refused = client.post(en("workbench:suspend", review.pk), {"procedure": "testing", "reason": ""})
    started = client.post(en("workbench:suspend", review.pk), {"procedure": "testing", "reason": "送检样品。"})

    assert refused.status_code == 400
    assert started["Location"] == en("workbench:task", review.pk)
    application.refresh_from_db()
    assert application.status == "suspended"
    page = client.get(en("workbench:task", review.pk)).content.decode()
    assert en("workbench:resume", review.pk) in page
    assert client.post(en("workbench:resume", review.pk))["Location"] == en("workbench:task", review.pk)
    application.refresh_from_db()
    assert application.status == "in_review"
