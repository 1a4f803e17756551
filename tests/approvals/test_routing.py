"""Routing (并联审批) run synchronously: every routing promise (Outbox row) is processed as the routing worker would.

The clock is pinned (Monday 9 March 2026, 10:00 in Shanghai, no holidays in the
table) so due dates are exact. An item's promised limit of 8 working days is
shared by the standard workflow 受理 (1) → 审查 (2) → 决定 (1): 2, 4 and 2 days.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from accounts import actions as account_actions
from accounts.models import StaffMembership, StaffRole, User
from approvals import outbox
from approvals.applications import submission, tracking
from approvals.models import Application, ApplicationEvent, Outbox, WorkflowTask
from approvals.routing import deadlines, engine
from approvals.tasks import route_application
from approvals.workbench import actions as workbench_actions
from approvals.workflow import ACCEPT, APPROVE, NOT_ACCEPT, REFUSE, RETURN, SUPPLEMENT
from core.errors import Conflict, DomainError, NotFound
from interaction.models import Message
from services.models import Department, DepartmentKind, ServiceItem
from tests.approvals.builders import (
    STANDARD_WORKFLOW,
    claim_and_decide,
    make_applicable_item,
    make_county,
    submitted,
    workflow_stage,
    workflow_task,
)
from tests.datahub.builders import make_wang_household
from tests.factories import staff_member
from tests.services.builders import make_department, make_region

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

UTC = datetime.UTC
NOTE = "请补充申请事由。"
FALLBACK_NOTE = "No department of the named kind here; the implementing department handles it."


def day(month: int, number: int) -> datetime.date:
    return datetime.date(2026, month, number)


def ten_am(month: int, number: int) -> datetime.datetime:
    """10:00 in Shanghai on a day of 2026."""
    return datetime.datetime(2026, month, number, 2, 0, tzinfo=UTC)


def five_pm(month: int, number: int) -> datetime.datetime:
    """17:00 in Shanghai on a day of 2026: when a task due that day runs out."""
    return datetime.datetime(2026, month, number, 9, 0, tzinfo=UTC)


class Clock:
    """The time ``django.utils.timezone.now`` gives while the ``clock`` fixture is in use."""

    def __init__(self, now: datetime.datetime) -> None:
        self.now = now

    def set(self, month: int, number: int) -> None:
        self.now = ten_am(month, number)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    pinned = Clock(ten_am(3, 9))  # a Monday
    monkeypatch.setattr(timezone, "now", lambda: pinned.now)
    return pinned


@pytest.fixture(autouse=True)
def upload_root(settings: Any, tmp_path: Path) -> Path:
    settings.UPLOAD_ROOT = tmp_path / "uploads"
    settings.UPLOAD_SCANNER = "approvals.uploads.NoScanner"
    return settings.UPLOAD_ROOT


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def department(db: None) -> Department:
    """The implementing department: the city's 行政审批局 (a kind no workflow here names)."""
    return make_department(serial=1, kind=DepartmentKind.ADMINISTRATIVE_SERVICE, name="杭州市行政审批局")


@pytest.fixture
def unsent(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Routing promises are kept in their rows only: nothing goes to the broker (the tests process the rows)."""
    sent: list[int] = []
    monkeypatch.setattr(outbox, "outbox_send", sent.append)
    return sent


def item_with(department: Department, workflow: dict[str, Any], **overrides: Any) -> ServiceItem:
    make_wang_household()
    return make_applicable_item(department=department, workflow=workflow, promised_limit=8, **overrides)


@pytest.fixture
def item(department: Department) -> ServiceItem:
    return item_with(department, STANDARD_WORKFLOW)


# --- helpers -----------------------------------------------------------------------------


def route() -> int:
    """Process every routing promise still open, oldest first; how many this call processed."""
    pending = list(Outbox.objects.filter(processed_at__isnull=True).order_by("pk").values_list("pk", flat=True))
    return sum(engine.outbox_process(outbox_id=outbox_id) for outbox_id in pending)


def row(application: Application) -> Application:
    return Application.objects.get(pk=application.pk)


def tasks_of(application: Application) -> list[tuple[str, int, int, str, str]]:
    """(stage, round, department, status, result) of each task, in the order they were made."""
    return list(
        WorkflowTask.objects.filter(application=application)
        .order_by("pk")
        .values_list("stage_key", "stage_round", "department_id", "status", "result")
    )


def open_task(application: Application, key: str | None = None) -> WorkflowTask:
    tasks = WorkflowTask.objects.filter(application=application, status__in=WorkflowTask.OPEN)
    return tasks.get(task_key=key) if key else tasks.get()


QUEUE_EVENTS = ("task_claimed", "task_released", "task_reassigned")


def events_of(application: Application) -> list[str]:
    """The routing events (the queue's own comings and goings have a test of their own)."""
    return list(
        ApplicationEvent.objects.filter(application=application)
        .exclude(action__in=QUEUE_EVENTS)
        .order_by("pk")
        .values_list("action", flat=True)
    )


def event(application: Application, action: str) -> ApplicationEvent:
    """The latest event of this kind."""
    found = ApplicationEvent.objects.filter(application=application, action=action).order_by("pk").last()
    assert found is not None, action
    return found


def inbox(event_name: str) -> list[tuple[int, dict[str, Any]]]:
    return list(Message.objects.filter(event=event_name).order_by("pk").values_list("recipient_id", "context"))


def decided_message(application: Application, outcome_display: str) -> dict[str, Any]:
    return {
        "number": application.number,
        "service_name": "居住证明开具",
        "url": reverse("approvals:application", kwargs={"number": application.number}),
        "outcome_display": outcome_display,
    }


def unprocessed() -> int:
    return Outbox.objects.filter(processed_at__isnull=True).count()


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
    assert (review.stage_key, review.due_at) == ("review", five_pm(3, 16))

    clock.set(3, 11)
    claim_and_decide(review.pk, clerk, APPROVE)
    assert route() == 1
    decide = open_task(application)
    assert (decide.stage_key, decide.due_at) == ("decide", five_pm(3, 13))

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


@dataclass
class Joint:
    police: Department  # 公安 of the applicant's county
    market: Department  # 市场监管 of the applicant's county
    housing: Department  # 住房 of the city above it
    clerks: dict[str, User]


@pytest.fixture
def joint(department: Department) -> Joint:
    county, city = make_county(), make_region()
    police = make_department(
        serial=2, kind=DepartmentKind.PUBLIC_SECURITY, region=county, name="杭州市公安局西湖区分局"
    )
    market = make_department(serial=3, kind=DepartmentKind.MARKET_REGULATION, region=county, name="西湖区市场监管局")
    housing = make_department(serial=4, kind=DepartmentKind.HOUSING, region=city, name="杭州市住房保障和房产管理局")
    # The same kinds at the other level: the rules must not pick them.
    make_department(serial=5, kind=DepartmentKind.PUBLIC_SECURITY, region=city, name="杭州市公安局")
    make_department(serial=6, kind=DepartmentKind.HOUSING, region=county, name="西湖区住房和城乡建设局")
    clerks = {
        key: staff_member(f"{key}-clerk@example.com", each, StaffRole.CLERK)
        for key, each in (("police", police), ("market", market), ("housing", housing))
    }
    return Joint(police=police, market=market, housing=housing, clerks=clerks)


def joint_workflow(join: Any = "all", *, housing_kind: str = "housing") -> dict[str, Any]:
    """Three departments check side by side (公安 and 市场监管 of the county, 住房 of the city), then the decision."""
    results = [APPROVE, REFUSE, RETURN]
    return {
        "stages": [
            workflow_stage(
                "joint",
                workflow_task(
                    "police",
                    department={"rule": "kind", "kind": "public_security", "level": "county"},
                    results=results,
                ),
                workflow_task(
                    "market",
                    department={"rule": "kind", "kind": "market_regulation", "level": "county"},
                    results=results,
                ),
                workflow_task(
                    "housing", department={"rule": "kind", "kind": housing_kind, "level": "city"}, results=results
                ),
                join=join,
            ),
            workflow_stage("decide", workflow_task("decide")),
        ]
    }


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


def trust_first_workflow() -> dict[str, Any]:
    return {"stages": [workflow_stage("verify", workflow_task("verify", name="核查"))], "trust_first": True}


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
        five_pm(3, 13),
    )

    workbench_actions.application_extend(
        application_id=application.pk, supervisor=supervisor, days=4, reason="需要现场核查。"
    )

    extended = row(application)
    assert (extended.due_date, extended.legal_due_date, extended.extended_days) == (day(3, 25), day(4, 10), 4)
    assert WorkflowTask.objects.get(pk=review.pk).due_at == five_pm(3, 19)
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
    assert WorkflowTask.objects.get(pk=review.pk).due_at == five_pm(3, 27)
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


# --- idempotency and concurrency (committed transactions, several connections) ------------


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(0)`` … ``work(count - 1)`` in as many threads released together; each closes its connection."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert errors == []
    return results


@pytest.mark.django_db(transaction=True)
def test_processing_one_outbox_row_twice_opens_the_stage_once(item, citizen, unsent):
    application = submitted(citizen, item)
    outbox = Outbox.objects.get()
    assert unsent == [outbox.pk]

    assert engine.outbox_process(outbox_id=outbox.pk) == 1
    assert engine.outbox_process(outbox_id=outbox.pk) == 0

    assert tasks_of(application) == [("accept", 1, item.department_id, "pending", "")]
    assert ApplicationEvent.objects.filter(application=application, action="routed").count() == 1
    assert Outbox.objects.get().attempts == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql_only
def test_two_workers_processing_one_outbox_row_at_once_open_the_stage_once(item, citizen, unsent):
    application = submitted(citizen, item)
    outbox = Outbox.objects.get()

    results = at_once(2, lambda _index: engine.outbox_process(outbox_id=outbox.pk))

    assert sorted(results) == [0, 1]
    assert tasks_of(application) == [("accept", 1, item.department_id, "pending", "")]
    assert (row(application).stage_round, Outbox.objects.get().attempts) == (1, 1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql_only
def test_two_promises_for_one_application_processed_at_once_open_the_stage_once(item, citizen, unsent):
    application = submitted(citizen, item)
    first = Outbox.objects.get()
    second = Outbox.objects.create(kind=Outbox.Kind.ROUTE, application=application)

    results = at_once(2, lambda index: engine.outbox_process(outbox_id=(first.pk, second.pk)[index]))

    # Both rows are routed: one batch took both, or each worker its own (the second waiting for the first).
    assert sum(results) == 2
    assert not Outbox.objects.filter(processed_at__isnull=True).exists()
    assert tasks_of(application) == [("accept", 1, item.department_id, "pending", "")]
    assert row(application).stage_round == 1
    assert ApplicationEvent.objects.filter(application=application, action="routed").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql_only
def test_the_last_two_clerks_of_a_parallel_stage_deciding_at_once_promise_one_routing(
    department, joint, citizen, unsent
):
    application = submitted(citizen, item_with(department, joint_workflow()))
    route()
    claim_and_decide(open_task(application, "police").pk, joint.clerks["police"], APPROVE)
    last_two = [open_task(application, key) for key in ("market", "housing")]
    for task in last_two:
        workbench_actions.task_claim(task_id=task.pk, clerk=joint.clerks[task.task_key])
    before = Outbox.objects.count()

    at_once(
        2,
        lambda index: workbench_actions.task_decide(
            task_id=last_two[index].pk, clerk=joint.clerks[last_two[index].task_key], result=APPROVE
        ),
    )

    assert Outbox.objects.count() == before + 1
    assert route() == 1
    assert tasks_of(application)[3:] == [("decide", 2, department.pk, "pending", "")]
    assert route() == 0
    assert WorkflowTask.objects.filter(application=application, stage_key="decide").count() == 1


def test_claims_releases_and_reassignments_are_kept_with_who_and_which_department(
    department, citizen, clerk, supervisor
):
    make_wang_household()
    application = submitted(citizen, make_applicable_item(department=department))
    route()
    task = WorkflowTask.objects.get(application=application)

    workbench_actions.task_claim(task_id=task.pk, clerk=clerk)
    workbench_actions.task_release(task_id=task.pk, clerk=clerk)
    workbench_actions.task_reassign(task_id=task.pk, supervisor=supervisor, to_user_id=clerk.pk)

    queue = ApplicationEvent.objects.filter(application=application, action__in=QUEUE_EVENTS).order_by("pk")
    assert list(queue.values_list("action", "actor_id", "department_id")) == [
        ("task_claimed", clerk.pk, department.pk),
        ("task_released", clerk.pk, department.pk),
        ("task_reassigned", supervisor.pk, department.pk),
    ]
    assert queue.last().details == {"task": "受理", "stage": "accept", "assignee_id": clerk.pk}
    # the public timeline says a clerk took it up, not who handed it to whom
    texts = [entry.text for entry in tracking.public_timeline(application)]
    assert "A clerk took up the task" in texts or "办理人员已开始办理" in texts
    assert not {"The task went back to the department's queue", "A supervisor reassigned the task"} & set(texts)


def test_a_special_procedure_stops_the_clock_and_its_working_days_do_not_count(item, citizen, clerk, supervisor, clock):
    application = submitted(citizen, item)  # Monday 9 March
    route()
    claim_and_decide(open_task(application).pk, clerk, ACCEPT)
    route()
    review = open_task(application)
    workbench_actions.task_claim(task_id=review.pk, clerk=clerk)
    before = row(application)
    assert (before.due_date, before.legal_due_date, review.due_at) == (day(3, 19), day(4, 6), five_pm(3, 13))

    # a clerk may not; the supervisor starts a hearing (听证) with the reason the applicant reads
    with pytest.raises(NotFound):
        workbench_actions.application_suspend(
            application_id=application.pk, supervisor=clerk, procedure="hearing", reason="x"
        )
    workbench_actions.application_suspend(
        application_id=application.pk, supervisor=supervisor, procedure="hearing", reason="涉及相邻权人利益。"
    )
    suspended = row(application)
    assert suspended.status == "suspended"
    assert event(application, "suspended").note == "听证：涉及相邻权人利益。"
    # nothing is decided, and nothing falls due, while it stands
    with pytest.raises(Conflict) as refused:
        workbench_actions.task_decide(task_id=review.pk, clerk=clerk, result=APPROVE)
    assert refused.value.code == "suspended"
    clock.set(3, 20)
    assert deadlines.deadlines_sweep() == (0, 0)

    # it ends on Friday 20 March: nine working days stood (10th to 20th March)
    resumed = workbench_actions.application_resume(application_id=application.pk, supervisor=supervisor)

    assert resumed.status == "in_review"
    assert (resumed.due_date, resumed.legal_due_date) == (day(4, 1), day(4, 17))
    assert WorkflowTask.objects.get(pk=review.pk).due_at == five_pm(3, 26)
    assert event(application, "resumed").details == {"stopped_working_days": 9}
    with pytest.raises(Conflict):
        workbench_actions.application_resume(application_id=application.pk, supervisor=supervisor)


def test_a_special_procedure_needs_a_known_procedure_and_a_reason(item, citizen, clerk, supervisor):
    application = submitted(citizen, item)
    route()
    # not yet accepted: no special procedure
    with pytest.raises(Conflict):
        workbench_actions.application_suspend(
            application_id=application.pk, supervisor=supervisor, procedure="hearing", reason="需要听证。"
        )
    claim_and_decide(open_task(application).pk, clerk, ACCEPT)
    route()

    with pytest.raises(DomainError) as refused:
        workbench_actions.application_suspend(
            application_id=application.pk, supervisor=supervisor, procedure="party", reason=" "
        )

    assert refused.value.fields == {
        "procedure": ["Choose the special procedure."],
        "reason": ["Give the reason: the applicant is told it."],
    }
    assert row(application).status == "in_review"


def test_a_routing_that_keeps_failing_is_sent_again_until_it_waits_for_an_operator(
    item, citizen, unsent, monkeypatch, caplog, clock
):
    application = submitted(citizen, item)
    promise = Outbox.objects.get(application=application)

    def broken(application: Application, writes: object) -> None:
        raise RuntimeError("a bug in routing")

    monkeypatch.setattr(engine, "application_advance", broken)
    for _attempt in range(outbox.MAX_ROUTING_ATTEMPTS):
        with pytest.raises(RuntimeError):
            route_application.run(promise.pk)
    promise.refresh_from_db()
    assert (promise.attempts, promise.processed_at) == (outbox.MAX_ROUTING_ATTEMPTS, None)

    clock.set(3, 10)
    unsent.clear()
    with caplog.at_level("ERROR", logger="approvals.outbox"):
        assert outbox.outbox_sweep() == 0

    assert unsent == []  # not sent again
    assert "1 routing promises failed 10 times and wait for an operator" in caplog.text


# --- batches -------------------------------------------------------------------------------


def test_a_worker_routes_the_promises_waiting_behind_its_own_in_one_batch(item, citizen, unsent):
    applications = [submitted(citizen, item) for _ in range(5)]
    first, *others = Outbox.objects.order_by("pk")

    assert engine.outbox_process(outbox_id=others[0].pk, batch=3) == 3  # its own, and the two oldest others

    processed = set(Outbox.objects.filter(processed_at__isnull=False).values_list("pk", flat=True))
    assert processed == {others[0].pk, first.pk, others[1].pk}
    assert engine.outbox_process(outbox_id=first.pk) == 0  # its task finds it done
    assert engine.outbox_process(outbox_id=others[2].pk) == 2
    for application in applications:
        assert tasks_of(application) == [("accept", 1, item.department_id, "pending", "")]
        assert ApplicationEvent.objects.filter(application=application, action="routed").count() == 1
    assert list(Outbox.objects.values_list("attempts", flat=True).distinct()) == [1]


def test_a_batch_costs_the_same_statements_for_twenty_applications_as_for_two(item, citizen, unsent):
    def routing_statements(count: int) -> int:
        for _ in range(count):
            submitted(citizen, item)
        [outbox_id] = Outbox.objects.filter(processed_at__isnull=True).order_by("pk").values_list("pk", flat=True)[:1]
        with CaptureQueriesContext(connection) as queries:
            assert engine.outbox_process(outbox_id=outbox_id) == count
        return len(queries)

    assert routing_statements(2) == routing_statements(20)
    assert WorkflowTask.objects.filter(status="pending").count() == 22


def test_an_application_that_cannot_be_routed_holds_back_no_other_in_its_batch(item, citizen, unsent, monkeypatch):
    good, bad, other = (submitted(citizen, item) for _ in range(3))
    advance = engine.application_advance

    def broken_for_one(application: Application, writes: Any) -> None:
        if application.pk == bad.pk:
            raise RuntimeError("a bug in routing")
        advance(application, writes)

    monkeypatch.setattr(engine, "application_advance", broken_for_one)
    good_row, bad_row = (Outbox.objects.get(application=each) for each in (good, bad))

    assert engine.outbox_process(outbox_id=good_row.pk) == 2  # the batch failed: one at a time, the bad one counted

    assert promises_of(good, other) == [(True, 1), (True, 1)]
    bad_row.refresh_from_db()
    assert (bad_row.processed_at, bad_row.attempts) == (None, 1)
    assert tasks_of(bad) == []
    # A row that failed before waits for its own task: it is not taken into another batch.
    third = submitted(citizen, item)
    assert engine.outbox_process(outbox_id=Outbox.objects.get(application=third).pk) == 1
    bad_row.refresh_from_db()
    assert (bad_row.processed_at, bad_row.attempts) == (None, 1)
    with pytest.raises(RuntimeError):
        engine.outbox_process(outbox_id=bad_row.pk)  # its own task raises, and the task counts it


def promises_of(*applications: Application) -> list[tuple[bool, int]]:
    return [
        (row.processed_at is not None, row.attempts)
        for row in Outbox.objects.filter(application__in=applications).order_by("pk")
    ]


def test_the_outbox_sweep_sends_again_only_promises_older_than_a_minute(item, citizen, unsent, monkeypatch):
    stuck, fresh = submitted(citizen, item), submitted(citizen, item)
    Outbox.objects.filter(application=stuck).update(created_at=timezone.now() - datetime.timedelta(minutes=2))
    unsent.clear()
    monkeypatch.setattr(outbox, "outbox_send", unsent.append)

    assert outbox.outbox_sweep() == 1

    assert unsent == [Outbox.objects.get(application=stuck).pk]
    assert promises_of(stuck, fresh) == [(False, 0), (False, 0)]
