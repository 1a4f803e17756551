"""The workbench without JavaScript: supervisors, registry checks, documents, staff leaving, clerks at once."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import actions as account_actions
from accounts.models import StaffMembership, StaffRole
from approvals.models import Application, ApplicationEvent, ApplicationView, WorkflowTask
from approvals.routing import deadlines
from approvals.workbench import actions as workbench_actions
from datahub.models import DataAccessLog, LegalPersonRecord
from demo.registry_data import LI_JIANGUO, WANG_XIAOMING, YIWANG_TECHNOLOGY
from interaction.models import Message
from tests.approvals.helpers import at_once
from tests.approvals.workbench.helpers import (
    civil_task,
    client_of,
    en,
    first_task,
    for_the_enterprise,
    parallel_item,
    post_decision,
    registry_log,
    rows,
    task_in_review,
)
from tests.factories import staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


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
    assert registry_log() == [
        (clerk.pk, item.department_id, "population", "verify", "3****************4", f"审查办件 {number}", "match")
    ]


def test_an_applicant_the_registry_does_not_confirm_is_said_so(item, citizen, clerk):
    task = first_task(citizen, item)
    Application.objects.filter(pk=task.application_id).update(applicant_name="王小名")
    DataAccessLog.objects.all().delete()

    response = client_of(clerk).post(en("workbench:verify_applicant", task.pk))

    result = response.content.decode().split('id="registry-result"')[1].split("</div>")[0]
    assert "Not confirmed." in result
    assert [(row[0], row[1], row[-1]) for row in registry_log()] == [(clerk.pk, item.department_id, "mismatch")]


def test_a_clerk_looks_up_the_enterprise_applied_for_in_the_legal_person_registry(item, citizen, clerk):
    task = first_task(citizen, item)
    for_the_enterprise(task)
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
    assert registry_log() == [
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
    enterprise = for_the_enterprise(task)
    LegalPersonRecord.objects.filter(uscc=enterprise.uscc).delete()

    response = client_of(clerk).post(en("workbench:lookup_enterprise", task.pk))

    assert "The legal person registry has no record with this credit code." in response.content.decode()
    assert registry_log()[-1][-1] == "not_found"


def test_staff_of_another_department_cannot_run_the_checks_and_nothing_is_logged(
    item, citizen, other_clerk, other_department
):
    task = first_task(citizen, item)
    for_the_enterprise(task)
    supervisor_elsewhere = staff_member("boss2@example.com", other_department, StaffRole.SUPERVISOR)
    before = registry_log()

    for user in (other_clerk, supervisor_elsewhere):
        client = client_of(user)
        assert client.post(en("workbench:verify_applicant", task.pk)).status_code == 404
        assert client.post(en("workbench:lookup_enterprise", task.pk)).status_code == 404
    assert client_of(citizen).post(en("workbench:verify_applicant", task.pk)).status_code == 404
    assert registry_log() == before


def test_the_checks_are_offered_only_while_the_task_is_open(item, citizen, clerk):
    task = first_task(citizen, item)
    for_the_enterprise(task)
    workbench_actions.task_claim(task_id=task.pk, clerk=clerk)
    workbench_actions.task_decide(task_id=task.pk, clerk=clerk, result="受理")
    client = client_of(clerk)
    before = registry_log()

    page = client.get(en("workbench:task", task.pk)).content.decode()
    verify = client.post(en("workbench:verify_applicant", task.pk))
    lookup = client.post(en("workbench:lookup_enterprise", task.pk))

    assert en("workbench:verify_applicant", task.pk) not in page
    assert en("workbench:lookup_enterprise", task.pk) not in page
    assert (verify.status_code, lookup.status_code) == (409, 409)
    assert "This task is no longer open" in verify.content.decode()
    assert registry_log() == before


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
def test_two_clerks_claiming_at_once_never_both_get_the_task(item, department, citizen, clerk):
    task = first_task(citizen, item)
    colleague = staff_member("colleague@example.com", department, StaffRole.CLERK)
    clients = [client_of(clerk), client_of(colleague)]

    answers = at_once(2, lambda index: clients[index].post(en("workbench:claim", task.pk))["Location"])

    task.refresh_from_db()
    assert sorted(answers) == sorted([en("workbench:task", task.pk), en("workbench:queue")])
    winner = [clerk, colleague][answers.index(en("workbench:task", task.pk))]
    assert (task.status, task.assignee) == (WorkflowTask.Status.CLAIMED, winner)


# --- a task of another department (并联审批) ------------------------------------------------------


def test_a_clerk_of_a_department_in_a_parallel_stage_handles_its_task(
    department, other_department, citizen, clerk, other_clerk
):
    item = parallel_item(department, other_department)
    civil = civil_task(citizen, item, clerk)
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
    post_decision(client, civil, result="同意")
    civil.refresh_from_db()
    assert (civil.status, civil.result, civil.decided_by) == (WorkflowTask.Status.DONE, "同意", other_clerk)


def test_a_clerk_of_a_department_in_a_parallel_stage_opens_the_materials(
    department, other_department, citizen, clerk, other_clerk
):
    item = parallel_item(department, other_department)
    civil = civil_task(citizen, item, clerk)
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
