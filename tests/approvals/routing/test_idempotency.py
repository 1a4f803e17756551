"""Routing twice, at once and in batches: each promise is routed exactly once (committed transactions, connections).

The clock is pinned (Monday 9 March 2026, 10:00 in Shanghai, no holidays in the
table) so due dates are exact. An item's promised limit of 8 working days is
shared by the standard workflow 受理 (1) → 审查 (2) → 决定 (1): 受理 gets 2 days from submission;
after acceptance the stages end 2 days before the application's due date (审查) and on it (决定).
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from approvals import outbox
from approvals.applications import tracking
from approvals.models import Application, ApplicationEvent, Outbox, WorkflowTask
from approvals.routing import deadlines, engine
from approvals.tasks import route_application
from approvals.workbench import actions as workbench_actions
from approvals.workflow import ACCEPT, APPROVE
from core.errors import Conflict, DomainError, NotFound
from tests.approvals.builders import (
    claim_and_decide,
    make_applicable_item,
    submitted,
)
from tests.approvals.helpers import at_once, day, five_pm, item_with, open_task, promises_of, route, row, tasks_of
from tests.approvals.routing.helpers import QUEUE_EVENTS, event, joint_workflow
from tests.datahub.builders import make_wang_household

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


# --- idempotency and concurrency (committed transactions, several connections) ------------


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
    assert (before.due_date, before.legal_due_date, review.due_at) == (day(3, 19), day(4, 6), five_pm(3, 17))

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
    assert WorkflowTask.objects.get(pk=review.pk).due_at == five_pm(3, 30)
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


def test_the_outbox_sweep_sends_again_only_promises_older_than_a_minute(item, citizen, unsent, monkeypatch):
    stuck, fresh = submitted(citizen, item), submitted(citizen, item)
    Outbox.objects.filter(application=stuck).update(created_at=timezone.now() - datetime.timedelta(minutes=2))
    unsent.clear()
    monkeypatch.setattr(outbox, "outbox_send", unsent.append)

    assert outbox.outbox_sweep() == 1

    assert unsent == [Outbox.objects.get(application=stuck).pk]
    assert promises_of(stuck, fresh) == [(False, 0), (False, 0)]
