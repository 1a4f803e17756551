"""Routing through a real Celery worker on Redis: what a submission, a decision and the beat sweeps set going.

The worker thread has its own database connection and sees committed rows
only, so every test here runs with transactional database access.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from approvals import outbox
from approvals.models import Application, ApplicationEvent, Outbox, WorkflowTask
from approvals.tasks import sweep_acceptance, sweep_deadlines, sweep_outbox
from approvals.workflow import ACCEPT
from core import calendar
from core.queueing import send_task_now
from interaction.models import Message
from services.models import Department, ServiceItem
from tests.approvals.builders import claim_and_decide, make_applicable_item, submitted
from tests.approvals.helpers import wait_for
from tests.datahub.builders import make_wang_household

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("upload_root")]


@pytest.fixture
def item(department: Department) -> ServiceItem:
    """Not the shared ``item``: promised in 8 working days, which the deadline sweep counts from."""
    make_wang_household()
    return make_applicable_item(department=department, promised_limit=8)


def open_tasks(application: Application) -> list[tuple[str, int, str]]:
    tasks = WorkflowTask.objects.filter(application=application, status__in=WorkflowTask.OPEN).order_by("pk")
    return list(tasks.values_list("stage_key", "stage_round", "status"))


def submitted_unsent(monkeypatch: pytest.MonkeyPatch, citizen: User, item: ServiceItem) -> Application:
    """Submitted while the broker path is skipped: its routing promise is a row that was never sent."""
    with monkeypatch.context() as patched:
        patched.setattr(outbox, "outbox_send", lambda outbox_id: None)
        return submitted(citizen, item)


def test_a_submission_and_then_a_decision_are_routed_by_the_worker(celery_worker, item, citizen, clerk):
    application = submitted(citizen, item)

    assert wait_for(lambda: open_tasks(application) == [("accept", 1, "pending")]), "the first stage did not open"

    task = WorkflowTask.objects.get(application=application)
    claim_and_decide(task.pk, clerk, ACCEPT)

    assert wait_for(lambda: open_tasks(application) == [("review", 2, "pending")]), "the next stage did not open"
    routed = Application.objects.get(pk=application.pk)
    assert (routed.status, routed.stage_index, routed.stage_round) == ("in_review", 1, 2)
    assert list(Outbox.objects.order_by("pk").values_list("attempts", flat=True)) == [1, 1]
    assert not Outbox.objects.filter(processed_at__isnull=True).exists()
    assert ApplicationEvent.objects.filter(application=application, action="routed").count() == 2


def test_a_promise_the_broker_never_got_is_sent_again_by_the_outbox_sweep(celery_worker, item, citizen, monkeypatch):
    stuck = submitted_unsent(monkeypatch, citizen, item)
    fresh = submitted_unsent(monkeypatch, citizen, item)
    Outbox.objects.filter(application=stuck).update(created_at=timezone.now() - datetime.timedelta(minutes=2))
    assert open_tasks(stuck) == []

    assert send_task_now(sweep_outbox) is True

    assert wait_for(lambda: open_tasks(stuck) == [("accept", 1, "pending")]), "the sweep did not route the row"
    assert Outbox.objects.get(application=stuck).attempts == 1
    # Younger than a minute, the fresh row is not sent again (its own send may still be on the way), but the
    # worker that routes the stuck one takes it along in the same batch.
    assert open_tasks(fresh) == [("accept", 1, "pending")]
    assert Outbox.objects.get(application=fresh).attempts == 1


def test_the_deadline_sweep_escalates_an_overdue_task_to_the_supervisor(
    celery_worker, item, citizen, clerk, supervisor
):
    application = submitted(citizen, item)
    assert wait_for(lambda: len(open_tasks(application)) == 1), "the first stage did not open"
    task = WorkflowTask.objects.get(application=application)
    WorkflowTask.objects.filter(pk=task.pk).update(due_at=timezone.now() - datetime.timedelta(hours=1))

    assert send_task_now(sweep_deadlines) is True

    assert wait_for(lambda: Message.objects.filter(event="task_overdue").exists()), "nobody was told"
    assert list(Message.objects.filter(event="task_overdue").values_list("recipient_id", "context")) == [
        (
            supervisor.pk,
            {
                "number": application.number,
                "service_name": "居住证明开具",
                "task_name": "受理",
                "url": reverse("workbench:task", kwargs={"task_id": task.pk}),
            },
        )
    ]
    assert WorkflowTask.objects.get(pk=task.pk).escalated_at is not None
    assert list(ApplicationEvent.objects.filter(action="overdue").values_list("application_id", "department_id")) == [
        (application.pk, task.department_id)
    ]


def test_the_acceptance_sweep_deems_an_old_submission_accepted_from_its_day_of_receipt(celery_worker, item, citizen):
    application = submitted(citizen, item)
    assert wait_for(lambda: len(open_tasks(application)) == 1), "the first stage did not open"
    received = timezone.now() - datetime.timedelta(days=14)  # at least 10 working days ago
    Application.objects.filter(pk=application.pk).update(submitted_at=received)

    assert send_task_now(sweep_acceptance) is True

    assert wait_for(lambda: Application.objects.get(pk=application.pk).is_deemed_accepted), "not deemed accepted"
    deemed = Application.objects.get(pk=application.pk)
    assert (deemed.status, deemed.accepted_at, deemed.due_date) == (
        "accepted",
        received,
        calendar.add_working_days(timezone.localtime(received).date(), 8),
    )
    assert ApplicationEvent.objects.filter(application=application, action="accepted").count() == 1
