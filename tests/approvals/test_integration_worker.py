"""The routing engine end to end with a real Celery worker on Redis: from submission to 办结.

Every routing step is done by the worker (the ``celery_worker`` fixture, a thread of
this process with its own database connection); the tests only act as the
applicant and the clerks, then wait for the worker with a deadline. The clock is
pinned (Monday 9 March 2026, 10:00 in Shanghai, no holidays in the table): the
worker thread reads the same ``timezone.now``, so due dates are exact. An item's
promised limit of 8 working days is shared by three stages of one share each: the
受理 task gets 2 working days from submission; after acceptance the stages end 2
working days before the application's due date (the joint review) and on it (决定).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from accounts.models import StaffRole, User
from approvals.applications import submission
from approvals.bundles import actions as bundle_actions
from approvals.bundles import selectors as bundle_selectors
from approvals.models import Application, ApplicationEvent, BundleApplication, Outbox, WorkflowTask
from approvals.workflow import ACCEPT, APPROVE, REFUSE, SUPPLEMENT
from interaction.models import Message
from services.models import Audience, Bundle, Department, DepartmentKind, HandlingType
from tests.approvals.builders import (
    STANDARD_WORKFLOW,
    JointDepartments,
    claim_and_decide,
    complete_answers,
    make_applicable_item,
    make_joint_departments,
    pdf_upload,
    submitted,
    three_stage_joint_workflow,
    workflow_stage,
    workflow_task,
)
from tests.approvals.helpers import day, five_pm, item_with, open_task, row, tasks_of, ten_am, wait_for
from tests.datahub.builders import make_wang_household
from tests.factories import staff_member
from tests.services.builders import make_department, make_theme

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clock", "upload_root"),
]

NOTE = "请补充申请事由。"


@pytest.fixture(autouse=True)
def _default_language(settings: Any) -> Iterator[None]:
    """The language the worker thread routes in (none activated: the default), whatever an earlier test left active."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def department(db: None) -> Department:
    """The implementing department: the city's 行政审批局 (a kind no kind rule here names)."""
    return make_department(serial=1, kind=DepartmentKind.ADMINISTRATIVE_SERVICE, name="杭州市行政审批局")


@pytest.fixture
def joint(db: None) -> JointDepartments:
    return make_joint_departments()


# --- waiting for the worker ------------------------------------------------------------


def routed(promises: int) -> None:
    """Wait until the worker has kept every routing promise made so far (``promises`` rows in all)."""

    def kept() -> bool:
        rows = list(Outbox.objects.values_list("processed_at", flat=True))
        return len(rows) == promises and None not in rows

    assert wait_for(kept), (
        f"the worker did not route: {list(Outbox.objects.order_by('pk').values_list('pk', 'processed_at'))}"
    )


def assert_every_promise_kept_once(promises: int) -> None:
    """Each routing row was processed, once: nothing was sent again (no sweep, no redelivery)."""
    rows = list(Outbox.objects.order_by("pk").values_list("processed_at", "attempts"))
    assert len(rows) == promises
    assert all(processed_at is not None for processed_at, _attempts in rows), rows
    assert [attempts for _processed_at, attempts in rows] == [1] * promises


# --- reading the results -----------------------------------------------------------------


def due_times(application: Application) -> list[tuple[str, int, datetime.datetime]]:
    tasks = WorkflowTask.objects.filter(application=application).order_by("pk")
    return list(tasks.values_list("stage_key", "stage_round", "due_at"))


# The timeline entries routing and decisions write (claims and views are left out).
ROUTING_EVENTS = {
    "submitted",
    "routed",
    "task_done",
    "accepted",
    "in_review",
    "supplement_requested",
    "supplemented",
    "approved_on_trust",
    "decided",
    "completed",
    "revoked",
}


def events_of(application: Application) -> list[str]:
    events = ApplicationEvent.objects.filter(application=application, action__in=ROUTING_EVENTS).order_by("pk")
    return list(events.values_list("action", flat=True))


def decided_messages(user: User) -> list[str]:
    messages = Message.objects.filter(recipient=user, event="application_decided").order_by("pk")
    return [context["outcome_display"] for context in messages.values_list("context", flat=True)]


def decide_joint(application: Application, joint: JointDepartments, result: str = APPROVE) -> None:
    for key in ("police", "market", "housing"):
        claim_and_decide(open_task(application, key).pk, joint.clerks[key], result)


# --- a three-stage workflow with a parallel group at two levels --------------------------


def test_a_three_stage_workflow_with_a_parallel_group_goes_from_submission_to_completed(
    celery_worker, department, joint, citizen, clerk, clock
):
    application = submitted(citizen, item_with(department, three_stage_joint_workflow()))  # Monday 9 March
    routed(1)
    assert tasks_of(application) == [("accept", 1, department.pk, "pending", "")]
    assert row(application).status == "submitted"

    clock.set(3, 10)  # accepted on Tuesday: 8 working days from there is Friday 20 March
    claim_and_decide(open_task(application).pk, clerk, ACCEPT)
    routed(2)
    accepted = row(application)
    assert (accepted.status, accepted.accepted_at, accepted.due_date) == ("in_review", ten_am(3, 10), day(3, 20))
    assert tasks_of(application)[1:] == [
        ("joint", 2, joint.police.pk, "pending", ""),
        ("joint", 2, joint.market.pk, "pending", ""),
        ("joint", 2, joint.housing.pk, "pending", ""),
    ]

    clock.set(3, 11)
    claim_and_decide(open_task(application, "police").pk, joint.clerks["police"], APPROVE)
    claim_and_decide(open_task(application, "housing").pk, joint.clerks["housing"], APPROVE)
    assert Outbox.objects.count() == 2  # two of three agreed: the group is still open, nothing to route
    claim_and_decide(open_task(application, "market").pk, joint.clerks["market"], APPROVE)
    routed(3)
    assert tasks_of(application)[4:] == [("decide", 3, department.pk, "pending", "")]

    clock.set(3, 12)
    claim_and_decide(open_task(application).pk, clerk, APPROVE)
    routed(4)

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
        ("joint", 2, joint.police.pk, "done", APPROVE),
        ("joint", 2, joint.market.pk, "done", APPROVE),
        ("joint", 2, joint.housing.pk, "done", APPROVE),
        ("decide", 3, department.pk, "done", APPROVE),
    ]
    # 受理 had 2 working days from submission; then each stage ends where the later stages' shares begin,
    # counted back from the due date (Friday 20 March), whenever the stage before it ended.
    assert due_times(application) == [
        ("accept", 1, five_pm(3, 11)),
        ("joint", 2, five_pm(3, 18)),
        ("joint", 2, five_pm(3, 18)),
        ("joint", 2, five_pm(3, 18)),
        ("decide", 3, five_pm(3, 20)),
    ]
    assert events_of(application) == [
        "submitted",
        "routed",
        "task_done",
        "accepted",
        "in_review",
        "routed",
        "task_done",
        "task_done",
        "task_done",
        "routed",
        "task_done",
        "decided",
        "completed",
    ]
    assert decided_messages(citizen) == ["Granted"]
    assert_every_promise_kept_once(4)


def test_one_refusal_in_the_parallel_group_rejects_the_application(celery_worker, department, joint, citizen, clerk):
    application = submitted(citizen, item_with(department, three_stage_joint_workflow()))
    routed(1)
    claim_and_decide(open_task(application).pk, clerk, ACCEPT)
    routed(2)

    claim_and_decide(open_task(application, "police").pk, joint.clerks["police"], APPROVE)
    market = open_task(application, "market")
    claim_and_decide(market.pk, joint.clerks["market"], REFUSE, opinion="经营场所与登记不符。")
    routed(3)

    rejected = row(application)
    assert (rejected.status, rejected.outcome, rejected.completed_at) == ("rejected", "1", ten_am(3, 9))
    assert tasks_of(application) == [
        ("accept", 1, department.pk, "done", ACCEPT),
        ("joint", 2, joint.police.pk, "done", APPROVE),
        ("joint", 2, joint.market.pk, "done", REFUSE),
        ("joint", 2, joint.housing.pk, "cancelled", ""),
    ]
    decided = ApplicationEvent.objects.get(application=application, action="decided")
    assert (decided.old_status, decided.new_status, decided.department_id) == ("in_review", "rejected", joint.market.pk)
    assert decided_messages(citizen) == ["Refused"]
    assert_every_promise_kept_once(3)


def test_a_supplement_stops_the_clock_and_the_answer_restarts_it_with_the_group_opened_again(
    celery_worker, department, joint, citizen, clerk, clock
):
    workflow = three_stage_joint_workflow(joint_results=[APPROVE, REFUSE, SUPPLEMENT])
    application = submitted(citizen, item_with(department, workflow))  # Monday 9 March
    routed(1)
    claim_and_decide(open_task(application).pk, clerk, ACCEPT)
    routed(2)
    accepted = row(application)
    assert (accepted.due_date, accepted.legal_due_date) == (day(3, 19), day(4, 6))

    clock.set(3, 11)  # Wednesday: the 公安 asks for a 补正; its siblings end with it
    claim_and_decide(
        open_task(application, "police").pk,
        joint.clerks["police"],
        SUPPLEMENT,
        opinion=NOTE,
        supplement_fields=["reason"],
    )
    routed(3)
    asked = row(application)
    assert (asked.status, asked.clock_stopped_at) == ("supplement_requested", ten_am(3, 11))
    assert [status for _stage, _round, _department, status, _result in tasks_of(application)[1:]] == [
        "done",
        "cancelled",
        "cancelled",
    ]

    clock.set(3, 16)  # Monday: the clock stood on Thursday, Friday and Monday
    submission.application_supplement(
        application_id=application.pk, user=citizen, data={"reason": "新的事由：办理入学。"}
    )
    resumed = row(application)
    assert (resumed.status, resumed.clock_stopped_at, resumed.due_date, resumed.legal_due_date) == (
        "in_review",
        None,
        day(3, 24),
        day(4, 9),
    )
    routed(4)
    assert tasks_of(application)[4:] == [
        ("joint", 3, joint.police.pk, "pending", ""),
        ("joint", 3, joint.market.pk, "pending", ""),
        ("joint", 3, joint.housing.pk, "pending", ""),
    ]
    # each round of the group ends 2 working days before the application's due date of its time (19, then 24 March)
    assert due_times(application)[1:] == [("joint", 2, five_pm(3, 17))] * 3 + [("joint", 3, five_pm(3, 20))] * 3

    decide_joint(application, joint)
    routed(5)
    claim_and_decide(open_task(application).pk, clerk, APPROVE)
    routed(6)

    done = row(application)
    assert (done.status, done.outcome, done.data["reason"], done.due_date) == (
        "completed",
        "0",
        "新的事由：办理入学。",
        day(3, 24),
    )
    assert [(stage, stage_round) for stage, stage_round, *_rest in tasks_of(application)] == [
        ("accept", 1),
        *[("joint", 2)] * 3,
        *[("joint", 3)] * 3,
        ("decide", 4),
    ]
    assert_every_promise_kept_once(6)


# --- 即办件 and 信任在先 ---------------------------------------------------------------------


def test_an_instant_item_is_completed_by_the_worker_with_no_task(celery_worker, department, citizen):
    instant = item_with(department, {**STANDARD_WORKFLOW, "instant": True}, handling_type=HandlingType.IMMEDIATE)
    application = submitted(citizen, instant)

    routed(1)

    done = row(application)
    assert (done.status, done.outcome, done.accepted_at, done.completed_at, done.due_date) == (
        "completed",
        "0",
        ten_am(3, 9),
        ten_am(3, 9),
        day(3, 10),  # an instant item's limit is one working day
    )
    assert tasks_of(application) == []
    assert events_of(application) == ["submitted", "accepted", "decided", "completed"]
    assert decided_messages(citizen) == ["Granted"]
    assert_every_promise_kept_once(1)


def trust_first_workflow() -> dict[str, Any]:
    return {"stages": [workflow_stage("verify", workflow_task("verify", name="核查"))], "trust_first": True}


def test_trust_first_items_are_approved_at_once_then_completed_or_revoked_by_the_verification(
    celery_worker, department, citizen, clerk
):
    item = item_with(department, trust_first_workflow())
    verified, refuted = submitted(citizen, item), submitted(citizen, item)
    routed(2)
    for application in (verified, refuted):
        approved = row(application)
        assert (approved.status, approved.outcome, approved.completed_at) == ("approved", "0", None)
        assert tasks_of(application) == [("verify", 1, department.pk, "pending", "")]

    claim_and_decide(open_task(verified).pk, clerk, APPROVE)
    claim_and_decide(open_task(refuted).pk, clerk, REFUSE, opinion="核查发现申请材料不实。")
    routed(4)

    assert (row(verified).status, row(verified).outcome, row(verified).completed_at) == ("completed", "0", ten_am(3, 9))
    assert (row(refuted).status, row(refuted).outcome, row(refuted).completed_at) == ("revoked", "2", ten_am(3, 9))
    assert events_of(verified) == ["submitted", "accepted", "approved_on_trust", "routed", "task_done", "completed"]
    assert events_of(refuted) == ["submitted", "accepted", "approved_on_trust", "routed", "task_done", "revoked"]
    # Told of each approval on submission, and of the revocation.
    assert decided_messages(citizen) == ["Granted", "Granted", "Void"]
    assert_every_promise_kept_once(4)


# --- 一件事: a bundle of three items --------------------------------------------------------


def test_a_bundle_of_three_items_is_routed_to_three_departments_at_once_and_completes_with_the_last(
    celery_worker, citizen
):
    make_wang_household()
    one_stage = {"stages": [workflow_stage("decide", workflow_task("decide", name="审批"))], "instant": False}
    kinds = (DepartmentKind.CIVIL_AFFAIRS, DepartmentKind.HEALTH, DepartmentKind.EDUCATION)
    departments = [make_department(serial=serial, kind=kind) for serial, kind in enumerate(kinds, 1)]
    clerks = [
        staff_member(f"bundle-clerk{index}@example.com", each, StaffRole.CLERK)
        for index, each in enumerate(departments)
    ]
    items = [
        make_applicable_item(department=each, name=name, workflow=one_stage)
        for each, name in zip(departments, ("居住证明开具", "预防接种证办理", "入学登记"), strict=True)
    ]
    Bundle.objects.create(
        slug="school",
        name="入学一件事",
        audience=Audience.PERSON,
        theme=make_theme(),
        item_codes=[item.implementation_code for item in items],
    )
    draft = bundle_actions.bundle_draft_start(user=citizen, slug="school")
    bundle_actions.bundle_draft_update(bundle_id=draft.pk, user=citizen, data=complete_answers())
    bundle_actions.bundle_attachment_add(bundle_id=draft.pk, user=citizen, upload=pdf_upload(), material_code="photo")

    bundle_actions.bundle_submit(bundle_id=draft.pk, user=citizen)
    routed(3)

    children = list(Application.objects.filter(bundle_application=draft).order_by("pk"))
    assert [child.service_id for child in children] == [item.pk for item in items]
    assert [tasks_of(child) for child in children] == [[("decide", 1, each.pk, "pending", "")] for each in departments]
    for child, each in list(zip(children, clerks, strict=True))[:2]:
        claim_and_decide(open_task(child).pk, each, APPROVE)
    routed(5)
    assert [row(child).status for child in children] == ["completed", "completed", "accepted"]
    assert BundleApplication.objects.get(pk=draft.pk).status == "submitted"

    claim_and_decide(open_task(children[2]).pk, clerks[2], APPROVE)
    routed(6)

    assert [(row(child).status, row(child).outcome) for child in children] == [("completed", "0")] * 3
    done = BundleApplication.objects.get(pk=draft.pk)
    assert (done.status, done.completed_at) == ("completed", ten_am(3, 9))
    told = Message.objects.filter(event="bundle_completed")
    assert list(told.values_list("recipient_id", "context")) == [
        (citizen.pk, {"bundle_name": "入学一件事", "url": bundle_selectors.bundle_url(done)})
    ]
    assert_every_promise_kept_once(6)
