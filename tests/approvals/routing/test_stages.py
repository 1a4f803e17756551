"""Routing (并联审批) stage by stage, run synchronously: each routing promise is processed as the routing worker would.

The clock is pinned (Monday 9 March 2026, 10:00 in Shanghai, no holidays in the
table) so due dates are exact. An item's promised limit of 8 working days is
shared by the standard workflow 受理 (1) → 审查 (2) → 决定 (1): 受理 gets 2 days from submission;
after acceptance the stages end 2 days before the application's due date (审查) and on it (决定).
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from approvals.applications import submission
from approvals.models import Application, ApplicationEvent, Outbox, WorkflowTask
from approvals.routing import deadlines
from approvals.workbench import actions as workbench_actions
from approvals.workflow import ACCEPT, APPROVE, NOT_ACCEPT, REFUSE, RETURN, SUPPLEMENT
from core.errors import Conflict
from services.models import DepartmentKind
from tests.approvals.builders import (
    STANDARD_WORKFLOW,
    claim_and_decide,
    make_applicable_item,
    submitted,
    workflow_stage,
    workflow_task,
)
from tests.approvals.helpers import day, five_pm, inbox, item_with, open_task, route, row, tasks_of, ten_am
from tests.approvals.routing.helpers import (
    FALLBACK_NOTE,
    NOTE,
    decided_message,
    event,
    events_of,
    joint_workflow,
    trust_first_workflow,
    unprocessed,
)
from tests.datahub.builders import make_wang_household
from tests.services.builders import make_department, make_region

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


# --- the standard flow -------------------------------------------------------------------


def test_the_standard_flow_runs_to_completed_with_its_events_in_order_and_its_due_dates(
    item, citizen, clerk, department, clock
):
    application = submitted(citizen, item)  # Monday 9 March
    assert route() == 1
    accept = open_task(application)
    assert (accept.stage_key, accept.name, accept.department_id, accept.allowed_results, accept.due_at) == (
        "accept",
        "受理",
        department.pk,
        [ACCEPT, NOT_ACCEPT, SUPPLEMENT],
        five_pm(3, 11),
    )
    assert row(application).status == "submitted"

    clock.set(3, 10)  # accepted on Tuesday: 8 working days from there is Friday 20 March
    claim_and_decide(accept.pk, clerk, ACCEPT)
    assert route() == 1
    accepted = row(application)
    assert (accepted.status, accepted.accepted_at, accepted.due_date) == ("in_review", ten_am(3, 10), day(3, 20))
    review = open_task(application)
    # the limit counted back from the due date by the stages' shares (1, 2, 1): 决定 has the last 2 days
    assert (review.stage_key, review.due_at) == ("review", five_pm(3, 18))

    clock.set(3, 11)
    claim_and_decide(review.pk, clerk, APPROVE)
    assert route() == 1
    decide = open_task(application)
    # decided early, the review leaves its time to the last stage, which ends on the application's due date
    assert (decide.stage_key, decide.due_at) == ("decide", five_pm(3, 20))

    clock.set(3, 12)
    claim_and_decide(decide.pk, clerk, APPROVE)
    assert route() == 1

    done = row(application)
    assert (done.status, done.outcome, done.decided_at, done.completed_at, done.due_date) == (
        "completed",
        "0",
        ten_am(3, 12),
        ten_am(3, 12),
        day(3, 20),
    )
    assert tasks_of(application) == [
        ("accept", 1, department.pk, "done", ACCEPT),
        ("review", 2, department.pk, "done", APPROVE),
        ("decide", 3, department.pk, "done", APPROVE),
    ]
    assert events_of(application) == [
        "created",
        "prefilled",
        "submitted",
        "routed",
        "task_done",
        "accepted",
        "in_review",
        "routed",
        "task_done",
        "routed",
        "task_done",
        "decided",
        "completed",
    ]
    changes = ApplicationEvent.objects.filter(application=application).exclude(new_status="").order_by("pk")
    assert list(changes.values_list("action", "old_status", "new_status")) == [
        ("created", "", "draft"),
        ("submitted", "draft", "submitted"),
        ("accepted", "submitted", "accepted"),
        ("in_review", "accepted", "in_review"),
        ("decided", "in_review", "approved"),
        ("completed", "approved", "completed"),
    ]
    routed = ApplicationEvent.objects.filter(application=application, action="routed").order_by("pk")
    assert [each.details for each in routed] == [
        {"stage": "accept", "departments": [department.pk]},
        {"stage": "review", "departments": [department.pk]},
        {"stage": "decide", "departments": [department.pk]},
    ]
    assert inbox("application_decided") == [(citizen.pk, decided_message(application, "Granted"))]
    assert list(Outbox.objects.order_by("pk").values_list("attempts", flat=True)) == [1, 1, 1, 1]
    assert unprocessed() == 0


@pytest.mark.parametrize(
    ("limits", "due_date"),
    [
        ({"promised_limit": 8}, day(3, 19)),
        ({"promised_limit": 14, "promised_limit_unit": "N"}, day(3, 23)),  # 14 calendar days: 10 working days
        ({"promised_limit": None, "legal_limit": 20}, day(4, 6)),
        ({"promised_limit": None, "legal_limit": 30, "legal_limit_unit": "N"}, day(4, 7)),  # 21 working days
        ({"promised_limit": 8, "handling_type": "1"}, day(3, 10)),  # 即办: one working day
    ],
)
def test_the_due_date_counts_the_limit_in_working_days_from_acceptance(department, citizen, clerk, limits, due_date):
    make_wang_household()
    item = make_applicable_item(department=department, workflow=STANDARD_WORKFLOW, **limits)
    application = submitted(citizen, item)
    route()

    claim_and_decide(open_task(application).pk, clerk, ACCEPT)
    route()

    assert row(application).due_date == due_date


def test_not_accepted_ends_the_application_and_tells_the_applicant(item, citizen, clerk):
    application = submitted(citizen, item)
    route()

    claim_and_decide(open_task(application).pk, clerk, NOT_ACCEPT, opinion="不属于本部门受理范围。")
    assert route() == 1

    ended = row(application)
    assert (ended.status, ended.outcome, ended.completed_at) == ("not_accepted", "6", ten_am(3, 9))
    assert tasks_of(application) == [("accept", 1, item.department_id, "done", NOT_ACCEPT)]
    assert events_of(application)[-2:] == ["task_done", "decided"]
    assert inbox("application_decided") == [(citizen.pk, decided_message(application, "Not accepted"))]


# --- a parallel stage across departments and levels --------------------------------------


def test_a_parallel_stage_goes_to_the_departments_of_its_kinds_and_moves_on_when_all_three_agree(
    department, joint, citizen
):
    application = submitted(citizen, item_with(department, joint_workflow()))

    assert route() == 1

    assert tasks_of(application) == [
        ("joint", 1, joint.police.pk, "pending", ""),
        ("joint", 1, joint.market.pk, "pending", ""),
        ("joint", 1, joint.housing.pk, "pending", ""),
    ]
    # The first stage does not accept, so the application counts as accepted when it opens.
    assert row(application).status == "accepted"
    assert event(application, "routed").details == {
        "stage": "joint",
        "departments": sorted([joint.police.pk, joint.market.pk, joint.housing.pk]),
    }

    claim_and_decide(open_task(application, "police").pk, joint.clerks["police"], APPROVE)
    claim_and_decide(open_task(application, "market").pk, joint.clerks["market"], APPROVE)
    assert unprocessed() == 0  # the stage is still open: nothing to route
    claim_and_decide(open_task(application, "housing").pk, joint.clerks["housing"], APPROVE)
    assert unprocessed() == 1
    assert route() == 1

    assert tasks_of(application)[3:] == [("decide", 2, department.pk, "pending", "")]
    assert row(application).status == "in_review"


def test_one_refusal_in_the_parallel_stage_rejects_at_once_and_cancels_the_others(department, joint, citizen):
    application = submitted(citizen, item_with(department, joint_workflow()))
    route()
    claim_and_decide(open_task(application, "police").pk, joint.clerks["police"], APPROVE)
    workbench_actions.task_claim(task_id=open_task(application, "market").pk, clerk=joint.clerks["market"])

    claim_and_decide(open_task(application, "housing").pk, joint.clerks["housing"], REFUSE, opinion="房屋权属不符。")
    assert route() == 1

    rejected = row(application)
    assert (rejected.status, rejected.outcome, rejected.completed_at) == ("rejected", "1", ten_am(3, 9))
    assert tasks_of(application) == [
        ("joint", 1, joint.police.pk, "done", APPROVE),
        ("joint", 1, joint.market.pk, "cancelled", ""),
        ("joint", 1, joint.housing.pk, "done", REFUSE),
    ]
    assert events_of(application)[-3:] == ["task_done", "task_done", "decided"]
    assert inbox("application_decided") == [(citizen.pk, decided_message(application, "Refused"))]


def test_the_decision_is_credited_to_the_department_that_refused(department, joint, citizen):
    application = submitted(citizen, item_with(department, joint_workflow()))
    route()
    claim_and_decide(open_task(application, "police").pk, joint.clerks["police"], APPROVE)

    claim_and_decide(open_task(application, "housing").pk, joint.clerks["housing"], REFUSE, opinion="房屋权属不符。")
    route()

    assert event(application, "decided").department_id == joint.housing.pk


def test_a_two_of_three_stage_moves_on_after_two_agree_and_cancels_the_third(department, joint, citizen):
    application = submitted(citizen, item_with(department, joint_workflow("quorum:2")))
    route()

    claim_and_decide(open_task(application, "police").pk, joint.clerks["police"], APPROVE)
    assert unprocessed() == 0
    claim_and_decide(open_task(application, "housing").pk, joint.clerks["housing"], APPROVE)
    assert route() == 1

    assert tasks_of(application) == [
        ("joint", 1, joint.police.pk, "done", APPROVE),
        ("joint", 1, joint.market.pk, "cancelled", ""),
        ("joint", 1, joint.housing.pk, "done", APPROVE),
        ("decide", 2, department.pk, "pending", ""),
    ]
    assert row(application).status == "in_review"


def test_a_two_of_three_stage_rejects_once_two_refuse(department, joint, citizen):
    application = submitted(citizen, item_with(department, joint_workflow({"quorum": 2})))
    route()

    claim_and_decide(open_task(application, "police").pk, joint.clerks["police"], REFUSE, opinion="有违法记录。")
    assert unprocessed() == 0  # two may still agree
    claim_and_decide(open_task(application, "market").pk, joint.clerks["market"], REFUSE, opinion="经营异常。")
    assert route() == 1

    assert row(application).status == "rejected"
    assert [status for _stage, _round, _department, status, _result in tasks_of(application)] == [
        "done",
        "done",
        "cancelled",
    ]


def test_a_decision_after_the_stage_was_decided_does_not_change_its_outcome(department, joint, citizen):
    application = submitted(citizen, item_with(department, joint_workflow()))
    route()
    claim_and_decide(open_task(application, "police").pk, joint.clerks["police"], REFUSE, opinion="有违法记录。")

    # before the routing worker gets to the rejection, another department tries to send the application back:
    # the stage is decided, its other tasks ended with the refusal
    housing = WorkflowTask.objects.get(application=application, task_key="housing")
    assert housing.status == "cancelled"
    with pytest.raises(Conflict):
        claim_and_decide(housing.pk, joint.clerks["housing"], RETURN, opinion="请重新核查。")
    route()

    assert row(application).status == "rejected"


def test_a_kind_missing_in_the_region_falls_back_to_the_implementing_department_with_a_note(department, joint, citizen):
    application = submitted(citizen, item_with(department, joint_workflow(housing_kind="transport")))

    route()

    assert tasks_of(application) == [
        ("joint", 1, joint.police.pk, "pending", ""),
        ("joint", 1, joint.market.pk, "pending", ""),
        ("joint", 1, department.pk, "pending", ""),
    ]
    notes = ApplicationEvent.objects.filter(application=application, action="routed").exclude(note="")
    assert list(notes.values_list("note", "department_id", "actor_label")) == [
        (FALLBACK_NOTE, department.pk, "system:routing")
    ]


def test_the_applicants_registered_county_decides_which_county_department_gets_the_task(department, joint, citizen):
    shangcheng = make_region("330102000000", "上城区")
    shangcheng_police = make_department(serial=7, kind=DepartmentKind.PUBLIC_SECURITY, region=shangcheng)
    application = submitted(citizen, item_with(department, joint_workflow()))
    household = {**row(application).data["household_address"], "region": "330102000000"}
    Application.objects.filter(pk=application.pk).update(data={**row(application).data, "household_address": household})

    route()

    # 上城区 has its police but no 市场监管: that task falls back; the city's 住房 is the same.
    assert [department_id for _stage, _round, department_id, _status, _result in tasks_of(application)] == [
        shangcheng_police.pk,
        department.pk,
        joint.housing.pk,
    ]


def test_a_fixed_rule_names_one_department_and_an_unknown_credit_code_falls_back(department, other_department, citizen):
    workflow = {
        "stages": [
            workflow_stage(
                "joint",
                workflow_task("fixed", department={"rule": "fixed", "uscc": other_department.uscc}),
                workflow_task("gone", department={"rule": "fixed", "uscc": "11330100MB0000000X"}),
            )
        ]
    }
    application = submitted(citizen, item_with(department, workflow))

    route()

    assert [department_id for _stage, _round, department_id, _status, _result in tasks_of(application)] == [
        other_department.pk,
        department.pk,
    ]
    assert event(application, "routed").details == {
        "stage": "joint",
        "departments": sorted([other_department.pk, department.pk]),
    }
    assert ApplicationEvent.objects.filter(application=application, note=FALLBACK_NOTE).count() == 1


# --- 退回 and 补正 -------------------------------------------------------------------------


def test_a_sending_back_opens_the_previous_stage_in_a_new_round(item, citizen, clerk, department):
    application = submitted(citizen, item)
    route()
    claim_and_decide(open_task(application).pk, clerk, ACCEPT)
    route()

    claim_and_decide(open_task(application).pk, clerk, RETURN, opinion="受理材料需重新核对。")
    assert route() == 1

    assert tasks_of(application) == [
        ("accept", 1, department.pk, "done", ACCEPT),
        ("review", 2, department.pk, "done", RETURN),
        ("accept", 3, department.pk, "pending", ""),
    ]
    returned = row(application)
    assert (returned.status, returned.stage_index, returned.stage_round) == ("in_review", 0, 3)
    assert event(application, "routed").details == {"stage": "accept", "departments": [department.pk]}
    assert event(application, "task_done").note == "受理材料需重新核对。"

    claim_and_decide(open_task(application).pk, clerk, ACCEPT)
    route()
    assert tasks_of(application)[-1] == ("review", 4, department.pk, "pending", "")


def test_a_supplement_asked_within_five_working_days_is_answered_and_acceptance_opens_again(
    item, citizen, clerk, department, clock
):
    application = submitted(citizen, item)  # Monday 9 March
    route()

    clock.set(3, 16)  # the fifth working day after receipt
    claim_and_decide(open_task(application).pk, clerk, SUPPLEMENT, opinion=NOTE, supplement_fields=["reason"])
    asked = row(application)
    assert (asked.status, asked.supplement_request) == (
        "supplement_requested",
        {"fields": ["reason"], "materials": [], "note": NOTE},
    )
    assert route() == 1
    assert tasks_of(application) == [("accept", 1, department.pk, "done", SUPPLEMENT)]  # nothing opens meanwhile

    submission.application_supplement(
        application_id=application.pk, user=citizen, data={"reason": "新的事由：办理入学。"}
    )
    assert row(application).status == "submitted"
    assert route() == 1
    assert tasks_of(application)[1:] == [("accept", 2, department.pk, "pending", "")]

    claim_and_decide(open_task(application).pk, clerk, ACCEPT)
    assert route() == 1

    accepted = row(application)
    assert (accepted.status, accepted.accepted_at, accepted.data["reason"]) == (
        "in_review",
        ten_am(3, 16),
        "新的事由：办理入学。",
    )
    assert tasks_of(application)[2:] == [("review", 3, department.pk, "pending", "")]
    assert events_of(application)[2:] == [
        "submitted",
        "routed",
        "supplement_requested",
        "task_done",
        "supplemented",
        "routed",
        "task_done",
        "accepted",
        "in_review",
        "routed",
    ]
    assert [context["items"] for _recipient, context in inbox("application_supplement_requested")] == [NOTE]


def test_a_supplement_asked_after_five_working_days_is_refused(item, citizen, clerk, clock):
    application = submitted(citizen, item)  # Monday 9 March
    route()
    task = open_task(application)
    workbench_actions.task_claim(task_id=task.pk, clerk=clerk)

    clock.set(3, 17)  # the sixth working day after receipt
    with pytest.raises(Conflict) as refused:
        workbench_actions.task_decide(
            task_id=task.pk, clerk=clerk, result=SUPPLEMENT, opinion=NOTE, supplement_fields=["reason"]
        )

    assert refused.value.code == "supplement_too_late"
    assert row(application).status == "submitted"
    assert tasks_of(application) == [("accept", 1, task.department_id, "claimed", "")]
    assert unprocessed() == 0


def test_without_a_supplement_request_in_five_working_days_the_application_counts_as_accepted_from_receipt(
    item, citizen, clerk, clock
):
    application = submitted(citizen, item)  # Monday 9 March
    route()
    task = open_task(application)
    workbench_actions.task_claim(task_id=task.pk, clerk=clerk)

    clock.set(3, 16)
    assert deadlines.acceptance_sweep() == 0  # five working days: still in time
    clock.set(3, 17)
    assert deadlines.acceptance_sweep() == 1
    assert deadlines.acceptance_sweep() == 0

    deemed = row(application)
    assert (deemed.status, deemed.is_deemed_accepted, deemed.accepted_at, deemed.due_date) == (
        "accepted",
        True,
        ten_am(3, 9),
        day(3, 19),
    )
    assert (event(application, "accepted").old_status, event(application, "accepted").actor_label) == (
        "submitted",
        "system:routing",
    )
    for result, opinion, extra in (
        (NOT_ACCEPT, "不属于受理范围。", {}),
        (SUPPLEMENT, NOTE, {"supplement_fields": ["reason"]}),
    ):
        with pytest.raises(Conflict) as refused:
            workbench_actions.task_decide(task_id=task.pk, clerk=clerk, result=result, opinion=opinion, **extra)
        assert refused.value.code == "deemed_accepted"
    assert tasks_of(application) == [("accept", 1, task.department_id, "claimed", "")]

    workbench_actions.task_decide(task_id=task.pk, clerk=clerk, result=ACCEPT)
    route()
    moved_on = row(application)
    assert (moved_on.status, moved_on.accepted_at) == ("in_review", ten_am(3, 9))


def test_the_acceptance_sweep_reaches_an_old_application_behind_a_thousand_recent_ones(
    item, citizen, clock, department
):
    old = submitted(citizen, item)  # Monday 9 March
    clock.set(3, 17)
    Application.objects.bulk_create(
        Application(
            applicant=citizen,
            service=item,
            implementation_code=item.implementation_code,
            department=department,
            number=f"RECENT{sequence:04d}",
            status=Application.Status.SUBMITTED,
            submitted_at=timezone.now(),
        )
        for sequence in range(1000)
    )

    assert deadlines.acceptance_sweep() == 1
    assert row(old).is_deemed_accepted is True


# --- 即办件 and 信任在先 ----------------------------------------------------------------------


def test_an_instant_item_is_completed_when_routed_and_the_applicant_told(department, citizen):
    application = submitted(citizen, item_with(department, {**STANDARD_WORKFLOW, "instant": True}))

    assert route() == 1

    done = row(application)
    assert (done.status, done.outcome, done.accepted_at, done.decided_at, done.completed_at, done.stage_index) == (
        "completed",
        "0",
        ten_am(3, 9),
        ten_am(3, 9),
        ten_am(3, 9),
        0,
    )
    assert tasks_of(application) == []
    assert events_of(application)[2:] == ["submitted", "accepted", "decided", "completed"]
    assert event(application, "decided").department_id == department.pk
    assert inbox("application_decided") == [(citizen.pk, decided_message(application, "Granted"))]


def test_a_trust_first_item_is_approved_on_submission_and_completed_when_verified(department, citizen, clerk):
    application = submitted(citizen, item_with(department, trust_first_workflow()))

    assert route() == 1

    approved = row(application)
    assert (approved.status, approved.outcome, approved.accepted_at, approved.decided_at) == (
        "approved",
        "0",
        ten_am(3, 9),
        ten_am(3, 9),
    )
    assert approved.completed_at is None
    assert tasks_of(application) == [("verify", 1, department.pk, "pending", "")]
    assert events_of(application)[2:] == ["submitted", "accepted", "approved_on_trust", "routed"]
    assert inbox("application_decided") == [(citizen.pk, decided_message(application, "Granted"))]

    claim_and_decide(open_task(application).pk, clerk, APPROVE)
    assert route() == 1

    verified = row(application)
    assert (verified.status, verified.outcome, verified.completed_at) == ("completed", "0", ten_am(3, 9))
    completed = event(application, "completed")
    assert (completed.old_status, completed.new_status, completed.details) == (
        "approved",
        "completed",
        {"verified": True},
    )
    assert len(inbox("application_decided")) == 1


def test_a_failed_verification_revokes_the_approval_and_tells_the_applicant(department, citizen, clerk):
    application = submitted(citizen, item_with(department, trust_first_workflow()))
    route()

    claim_and_decide(open_task(application).pk, clerk, REFUSE, opinion="核查发现申请材料不实。")
    assert route() == 1

    revoked = row(application)
    assert (revoked.status, revoked.outcome, revoked.completed_at) == ("revoked", "2", ten_am(3, 9))
    assert events_of(application)[-2:] == ["task_done", "revoked"]
    assert (event(application, "revoked").old_status, event(application, "revoked").department_id) == (
        "approved",
        department.pk,
    )
    assert inbox("application_decided") == [
        (citizen.pk, decided_message(application, "Granted")),
        (citizen.pk, decided_message(application, "Void")),
    ]
