"""The workbench's task pages without JavaScript: claim, release and decide."""

from __future__ import annotations

import pytest

from accounts.models import StaffRole
from approvals.models import Application, ApplicationEvent, Outbox, WorkflowTask
from approvals.workbench import actions as workbench_actions
from interaction.models import Message
from tests.approvals.helpers import route
from tests.approvals.workbench.helpers import client_of, en, first_task, post_decision, rows, task_in_review
from tests.factories import staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


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


def test_an_application_goes_through_accept_review_and_decision_to_completed(item, citizen, clerk):
    client = client_of(clerk)
    accept = first_task(citizen, item)
    application = accept.application

    response = post_decision(client, accept, result="受理")
    assert response["Location"] == en("workbench:queue")
    route()
    review = WorkflowTask.objects.get(application=application, stage_key="review")
    assert Application.objects.get(pk=application.pk).status == Application.Status.IN_REVIEW

    post_decision(client, review, result="同意", opinion="材料齐全。")
    route()
    decide = WorkflowTask.objects.get(application=application, stage_key="decide")
    post_decision(client, decide, result="同意")
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

    response = post_decision(
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

    response = post_decision(client_of(clerk), task, result="补齐补正", opinion="请补充材料。")

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

    response = post_decision(client_of(clerk), task, result="同意")
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
