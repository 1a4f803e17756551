"""Routing with time in it: withdrawal, extension, special procedures, deadlines, staff leaving; the workbench's rules.

The clock is pinned (Monday 9 March 2026, 10:00 in Shanghai, no holidays in the
table) so due dates are exact. An item's promised limit of 8 working days is
shared by the standard workflow 受理 (1) → 审查 (2) → 决定 (1): 受理 gets 2 days from submission;
after acceptance the stages end 2 days before the application's due date (审查) and on it (决定).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import actions as account_actions
from accounts.models import StaffMembership, StaffRole
from approvals.applications import submission
from approvals.models import ApplicationEvent, Outbox, WorkflowTask
from approvals.routing import deadlines
from approvals.workbench import actions as workbench_actions
from approvals.workflow import ACCEPT, APPROVE, NOT_ACCEPT
from core.errors import Conflict, DomainError, NotFound
from tests.approvals.builders import (
    claim_and_decide,
    submitted,
)
from tests.approvals.helpers import day, five_pm, inbox, open_task, route, row, tasks_of, ten_am
from tests.approvals.routing.helpers import event, unprocessed
from tests.factories import staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


# --- withdrawal, extension, deadlines, staff leaving ------------------------------------


def test_withdrawing_cancels_the_open_tasks_and_a_late_routing_opens_nothing(item, citizen, clerk, clock):
    application = submitted(citizen, item)
    route()
    claim_and_decide(open_task(application).pk, clerk, ACCEPT)
    route()
    review = open_task(application)
    workbench_actions.task_claim(task_id=review.pk, clerk=clerk)
    Outbox.objects.create(kind=Outbox.Kind.ROUTE, application=application)  # a promise still to be kept

    clock.set(3, 10)
    submission.application_withdraw(application_id=application.pk, user=citizen, reason="不需要了")
    assert route() == 1

    assert row(application).status == "withdrawn"
    assert tasks_of(application)[1:] == [("review", 2, item.department_id, "cancelled", "")]
    assert WorkflowTask.objects.get(pk=review.pk).finished_at == ten_am(3, 10)
    with pytest.raises(Conflict) as late:
        workbench_actions.task_decide(task_id=review.pk, clerk=clerk, result=APPROVE)
    assert late.value.code == "not_assignee"


def test_a_supervisor_extends_the_time_limit_by_at_most_ten_working_days_with_a_reason(
    item, citizen, clerk, supervisor, department
):
    application = submitted(citizen, item)  # Monday 9 March
    route()
    claim_and_decide(open_task(application).pk, clerk, ACCEPT)
    route()
    review = open_task(application)
    assert (row(application).due_date, row(application).legal_due_date, review.due_at) == (
        day(3, 19),
        day(4, 6),  # the statutory 20 working days
        five_pm(3, 17),
    )

    workbench_actions.application_extend(
        application_id=application.pk, supervisor=supervisor, days=4, reason="需要现场核查。"
    )

    extended = row(application)
    assert (extended.due_date, extended.legal_due_date, extended.extended_days) == (day(3, 25), day(4, 10), 4)
    assert WorkflowTask.objects.get(pk=review.pk).due_at == five_pm(3, 23)
    recorded = event(application, "extended")
    assert (recorded.actor_id, recorded.department_id, recorded.note, recorded.details) == (
        supervisor.pk,
        department.pk,
        "需要现场核查。",
        {"days": 4, "due_date": "2026-03-25"},
    )
    assert inbox("application_extended") == [
        (
            citizen.pk,
            {
                "number": application.number,
                "service_name": "居住证明开具",
                "url": reverse("approvals:application", kwargs={"number": application.number}),
                "days": 4,
                "due_date": "2026-03-25",
                "reason": "需要现场核查。",
            },
        )
    ]

    with pytest.raises(DomainError) as too_long:
        workbench_actions.application_extend(
            application_id=application.pk, supervisor=supervisor, days=7, reason="再延长。"
        )
    with pytest.raises(DomainError) as no_reason:
        workbench_actions.application_extend(application_id=application.pk, supervisor=supervisor, days=2, reason="  ")
    assert (too_long.value.code, too_long.value.fields) == (
        "validation_error",
        {"days": ["An extension is at most 10 working days in all; 6 are left."]},
    )
    assert no_reason.value.fields == {"reason": ["Give the reason: the applicant is told it."]}

    workbench_actions.application_extend(
        application_id=application.pk, supervisor=supervisor, days=6, reason="专家评审。"
    )
    assert (row(application).due_date, row(application).legal_due_date, row(application).extended_days) == (
        day(4, 2),
        day(4, 20),
        10,
    )
    assert WorkflowTask.objects.get(pk=review.pk).due_at == five_pm(3, 31)
    with pytest.raises(DomainError) as none_left:
        workbench_actions.application_extend(
            application_id=application.pk, supervisor=supervisor, days=1, reason="再延长。"
        )
    assert none_left.value.fields == {"days": ["An extension is at most 10 working days in all; 0 are left."]}
    assert len(inbox("application_extended")) == 2


def test_only_a_supervisor_of_the_department_may_extend_and_only_an_accepted_application(
    item, citizen, clerk, supervisor, other_department
):
    other_supervisor = staff_member("supervisor2@example.com", other_department, StaffRole.SUPERVISOR)
    application = submitted(citizen, item)
    route()

    with pytest.raises(Conflict) as not_yet:
        workbench_actions.application_extend(
            application_id=application.pk, supervisor=supervisor, days=2, reason="核查。"
        )
    claim_and_decide(open_task(application).pk, clerk, ACCEPT)
    route()
    for outsider in (clerk, other_supervisor):
        with pytest.raises(NotFound):
            workbench_actions.application_extend(
                application_id=application.pk, supervisor=outsider, days=2, reason="核查。"
            )

    assert not_yet.value.code == "wrong_status"
    assert (row(application).due_date, row(application).extended_days) == (day(3, 19), 0)
    assert inbox("application_extended") == []


def test_a_task_turns_yellow_within_a_working_day_of_its_due_time_and_red_after_it_each_told_once(
    item, citizen, clerk, supervisor, department, clock
):
    second_supervisor = staff_member("supervisor2@example.com", department, StaffRole.SUPERVISOR)
    application = submitted(citizen, item)  # Monday 9 March: 受理 due Wednesday 11 March at 17:00
    route()
    task = open_task(application)
    workbench_actions.task_claim(task_id=task.pk, clerk=clerk)

    assert deadlines.deadlines_sweep() == (0, 0)  # Monday: due later than the end of the next working day
    clock.set(3, 10)
    assert deadlines.deadlines_sweep() == (1, 0)
    assert deadlines.deadlines_sweep() == (0, 0)
    clock.set(3, 12)
    later = submitted(citizen, item)  # due Monday 16 March: not yet yellow on Thursday
    route()
    assert deadlines.deadlines_sweep() == (0, 1)
    assert deadlines.deadlines_sweep() == (0, 0)

    message = {
        "number": application.number,
        "service_name": "居住证明开具",
        "task_name": "受理",
        "url": reverse("workbench:task", kwargs={"task_id": task.pk}),
    }
    told = sorted([clerk.pk, supervisor.pk, second_supervisor.pk])  # the clerk holding it and every supervisor
    assert inbox("task_due_soon") == [(recipient, message) for recipient in told]
    assert inbox("task_overdue") == [(recipient, message) for recipient in told]
    assert WorkflowTask.objects.get(pk=task.pk).escalated_at == ten_am(3, 12)
    assert (open_task(later).warned_at, open_task(later).escalated_at) == (None, None)
    overdue = ApplicationEvent.objects.filter(action="overdue")
    assert list(overdue.values_list("application_id", "department_id", "actor_label", "details")) == [
        (application.pk, department.pk, "system:supervision", {"task": "受理", "due_at": "2026-03-11T09:00:00+00:00"})
    ]


def test_turning_red_keeps_the_time_the_yellow_warning_was_told(item, citizen, clock):
    application = submitted(citizen, item)  # 受理 due Wednesday 11 March at 17:00
    route()
    clock.set(3, 10)
    deadlines.deadlines_sweep()

    clock.set(3, 12)
    deadlines.deadlines_sweep()

    swept = open_task(application)
    assert (swept.warned_at, swept.escalated_at) == (ten_am(3, 10), ten_am(3, 12))


def test_a_clerk_removed_from_the_department_gives_back_the_task_they_held(item, citizen, clerk, department):
    colleague = staff_member("clerk3@example.com", department, StaffRole.CLERK)
    held = submitted(citizen, item)
    kept = submitted(citizen, item)
    route()
    workbench_actions.task_claim(task_id=open_task(held).pk, clerk=clerk)
    workbench_actions.task_claim(task_id=open_task(kept).pk, clerk=colleague)

    account_actions.staff_membership_end(
        membership_id=StaffMembership.objects.get(user=clerk, department=department).pk
    )

    returned, untouched = open_task(held), open_task(kept)
    assert (returned.status, returned.assignee_id, returned.claimed_at) == ("pending", None, None)
    assert (untouched.status, untouched.assignee_id) == ("claimed", colleague.pk)
    with pytest.raises(NotFound):
        workbench_actions.task_claim(task_id=returned.pk, clerk=clerk)


# --- the workbench's rules ----------------------------------------------------------------


def test_a_task_is_claimed_by_one_clerk_of_its_department_released_and_reassigned(
    item, citizen, clerk, supervisor, department, other_clerk
):
    colleague = staff_member("clerk3@example.com", department, StaffRole.CLERK)
    application = submitted(citizen, item)
    route()
    task = open_task(application)

    with pytest.raises(NotFound):
        workbench_actions.task_claim(task_id=task.pk, clerk=other_clerk)
    workbench_actions.task_claim(task_id=task.pk, clerk=clerk)
    assert (
        workbench_actions.task_claim(task_id=task.pk, clerk=clerk).assignee_id == clerk.pk
    )  # claiming again changes nothing
    with pytest.raises(Conflict) as taken:
        workbench_actions.task_claim(task_id=task.pk, clerk=colleague)
    assert taken.value.code == "task_taken"
    with pytest.raises(Conflict):
        workbench_actions.task_release(task_id=task.pk, clerk=colleague)

    released = workbench_actions.task_release(task_id=task.pk, clerk=clerk)
    assert (released.status, released.assignee_id) == ("pending", None)

    with pytest.raises(NotFound):
        workbench_actions.task_reassign(task_id=task.pk, supervisor=clerk, to_user_id=colleague.pk)
    with pytest.raises(DomainError) as outsider:
        workbench_actions.task_reassign(task_id=task.pk, supervisor=supervisor, to_user_id=other_clerk.pk)
    assert outsider.value.fields == {"assignee": ["Not a member of this department."]}
    reassigned = workbench_actions.task_reassign(task_id=task.pk, supervisor=supervisor, to_user_id=colleague.pk)
    assert (reassigned.status, reassigned.assignee_id) == ("claimed", colleague.pk)


def test_a_decision_needs_the_claim_an_allowed_result_and_reasons_for_a_refusal(item, citizen, clerk):
    application = submitted(citizen, item)
    route()
    task = open_task(application)

    with pytest.raises(Conflict) as unclaimed:
        workbench_actions.task_decide(task_id=task.pk, clerk=clerk, result=ACCEPT)
    workbench_actions.task_claim(task_id=task.pk, clerk=clerk)
    with pytest.raises(DomainError) as not_allowed:
        workbench_actions.task_decide(task_id=task.pk, clerk=clerk, result=APPROVE)
    with pytest.raises(DomainError) as no_reasons:
        workbench_actions.task_decide(task_id=task.pk, clerk=clerk, result=NOT_ACCEPT, opinion=" ")

    assert unclaimed.value.code == "not_assignee"
    assert not_allowed.value.fields == {"result": ["Choose one of: 受理、不予受理、补齐补正."]}
    assert no_reasons.value.fields == {"opinion": ["Give the reasons for this result."]}
    assert tasks_of(application) == [("accept", 1, task.department_id, "claimed", "")]
    assert unprocessed() == 0
