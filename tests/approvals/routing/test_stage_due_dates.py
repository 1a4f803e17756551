"""Stage due dates follow the stage order and end on the application's due date, holidays counted.

The clock is pinned (Monday 9 March 2026, 10:00 in Shanghai). Wednesday 18 March is
made a holiday and Saturday 14 March a working day (调休) where a test says so.
"""

from __future__ import annotations

import datetime

import pytest

from approvals import workflow
from approvals.models import WorkflowTask
from core import calendar
from core.models import Holiday
from demo.catalogue_data import parts
from tests.approvals.builders import claim_and_decide, submitted
from tests.approvals.helpers import day, five_pm, item_with, open_task, route, row

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

# The demo's shapes: 受理 → three departments side by side with their shares → 决定; 受理 → 调查评估 → 登记.
PARALLEL = parts.parallel(
    parts.task("police", "治安审查", share=2),
    parts.task("market", "经营条件审查", share=2),
    parts.task("fire", "消防意见", share=1),
)
ADOPTION = parts.standard("调查评估", "登记")


@pytest.mark.parametrize("shape", [PARALLEL, ADOPTION, parts.two_step(), parts.instant()])
@pytest.mark.parametrize("limit", [1, 2, 3, 5, 8, 13, 20])
def test_the_days_before_the_due_date_never_grow_in_stage_order_and_the_last_stage_ends_on_it(shape, limit):
    flow = workflow.parse(shape)

    full_shares = [
        workflow.working_days_before_due(flow, index, max(stage.tasks, key=lambda task: task.share), limit)
        for index, stage in enumerate(flow.stages)
    ]
    every_task = [
        [workflow.working_days_before_due(flow, index, task, limit) for task in stage.tasks]
        for index, stage in enumerate(flow.stages)
    ]

    assert full_shares == sorted(full_shares, reverse=True)
    assert full_shares[-1] == 0
    assert all(0 <= days <= limit for days in full_shares)
    # a task with a smaller share ends earlier in its stage, never before the stage before it ends
    for index, days in enumerate(every_task):
        assert all(full_shares[index] <= task_days for task_days in days)
        if index:
            assert all(task_days <= full_shares[index - 1] for task_days in days)


def test_the_parallel_shape_divides_eight_days_by_its_shares():
    flow = workflow.parse(PARALLEL)
    joint = flow.stages[1]

    assert [workflow.working_days_before_due(flow, 1, task, 8) for task in joint.tasks] == [2, 2, 4]
    assert workflow.working_days_before_due(flow, 2, flow.stages[2].tasks[0], 8) == 0


def test_counting_working_days_back_skips_weekends_and_holidays_and_counts_a_worked_saturday(db):
    Holiday.objects.create(day=day(3, 18), name="假日")
    Holiday.objects.create(day=day(3, 14), is_working_day=True, name="调休")

    assert calendar.subtract_working_days(day(3, 20), 0) == day(3, 20)
    assert calendar.subtract_working_days(day(3, 20), 2) == day(3, 17)  # Thursday 19, Tuesday 17 (18 is a holiday)
    assert calendar.subtract_working_days(day(3, 17), 2) == day(3, 14)  # Monday 16, the worked Saturday 14
    assert calendar.subtract_working_days(day(3, 16), 1, calendar.all_exceptions()) == day(3, 14)
    for days in range(12):
        start = day(3, 9)
        assert calendar.subtract_working_days(calendar.add_working_days(start, days), days) == start


def _due_days(application_id: int, stage_key: str) -> dict[str, datetime.date]:
    tasks = WorkflowTask.objects.filter(application_id=application_id, stage_key=stage_key)
    return {task.task_key: calendar.local_day(task.due_at) for task in tasks}


def test_a_parallel_review_decided_early_leaves_the_decision_due_on_the_applications_due_date(
    department, citizen, clerk, clock
):
    Holiday.objects.create(day=day(3, 18), name="假日")
    application = submitted(citizen, item_with(department, PARALLEL))  # Monday 9 March, promised 8 working days
    route()
    claim_and_decide(open_task(application).pk, clerk, workflow.ACCEPT)
    route()
    accepted = row(application)
    assert accepted.due_date == day(3, 20)  # 8 working days from Monday 9, the holiday skipped

    # the joint review ends 2 working days before the due date; the share-1 opinion 4 days before
    assert _due_days(application.pk, "joint_review") == {"police": day(3, 17), "market": day(3, 17), "fire": day(3, 13)}

    clock.set(3, 10)
    for key in ("police", "market", "fire"):
        claim_and_decide(open_task(application, key).pk, clerk, workflow.APPROVE)
    route()

    decide = open_task(application)
    assert (decide.stage_key, decide.due_at) == ("decide", five_pm(3, 20))


def test_the_adoption_registration_is_never_due_before_its_investigation(department, citizen, clerk, clock):
    application = submitted(citizen, item_with(department, ADOPTION))
    route()
    claim_and_decide(open_task(application).pk, clerk, workflow.ACCEPT)
    route()
    investigation = open_task(application)
    # the application is due Thursday 19 March: the investigation ends 2 working days before
    assert (investigation.name, investigation.due_at) == ("调查评估", five_pm(3, 17))

    claim_and_decide(investigation.pk, clerk, workflow.APPROVE)  # the same day
    route()

    registration = open_task(application)
    assert (registration.name, registration.due_at) == ("登记", five_pm(3, 19))
    assert registration.due_at >= investigation.due_at


def test_a_stage_opened_after_the_one_before_it_overran_is_due_that_day_and_not_in_the_past(
    department, citizen, clerk, clock
):
    application = submitted(citizen, item_with(department, ADOPTION))
    route()
    claim_and_decide(open_task(application).pk, clerk, workflow.ACCEPT)
    route()

    clock.set(3, 23)  # after the application's due date, Thursday 19 March
    claim_and_decide(open_task(application).pk, clerk, workflow.APPROVE)
    route()

    assert open_task(application).due_at == five_pm(3, 23)
