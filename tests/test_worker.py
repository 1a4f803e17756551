"""Work sent by the web process is done by a real worker, through every queue."""

import json
from fnmatch import fnmatch

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from core.queueing import send_task_now
from portal import actions
from portal.celery import app as celery_app
from portal.models import WorkerPing
from portal.tasks import answer_worker_ping

QUEUES = ["notifications", "payments", "reports", "routing", "sla"]


@pytest.mark.worker
def test_a_ping_sent_by_the_web_process_is_answered_by_the_worker_on_every_queue(client, celery_worker):
    # given a running worker and no pings yet
    assert WorkerPing.objects.count() == 0

    # when the web process sends a ping through each queue and waits
    response = client.get("/healthz/worker")

    # then every queue answered, and the rows say so
    body = json.loads(response.content)
    assert response.status_code == 200, body
    assert sorted(body["queues"]) == QUEUES
    assert {queue["status"] for queue in body["queues"].values()} == {"ok"}
    pings = WorkerPing.objects.order_by("queue")
    assert [ping.queue for ping in pings] == QUEUES
    assert all(ping.answered_at is not None and ping.answered_by for ping in pings)


def _declare_queues_as_a_worker_does() -> None:
    with celery_app.connection_for_write() as connection:
        for queue in celery_app.amqp.queues.values():
            queue(connection.default_channel).declare()


def _messages_waiting() -> dict[str, int]:
    # On Redis a queue is a list named after it (messages of the default priority).
    broker = redis.Redis.from_url(str(settings.CELERY_BROKER_URL))
    return {queue: broker.llen(queue) for queue in QUEUES}


@pytest.mark.django_db(transaction=True)
def test_a_task_sent_to_one_queue_lands_in_that_queue_only():
    _declare_queues_as_a_worker_does()
    celery_app.control.purge()
    ping = WorkerPing.objects.create(queue="payments")
    try:
        assert send_task_now(answer_worker_ping, ping.pk, queue="payments") is True
        assert _messages_waiting() == {"notifications": 0, "payments": 1, "reports": 0, "routing": 0, "sla": 0}
    finally:
        celery_app.control.purge()


@pytest.mark.parametrize("queue", QUEUES)
def test_a_task_routed_by_its_name_lands_in_its_queue_only(queue):
    _declare_queues_as_a_worker_does()
    celery_app.control.purge()
    task_name = {
        "notifications": "interaction.tasks.send_notification",
        "payments": "payments.tasks.reconcile_day",
        "reports": "portal.tasks.report_daily_figures",
        "routing": "approvals.tasks.route_application",
        "sla": "approvals.tasks.sweep_overdue_tasks",
    }[queue]
    try:
        celery_app.send_task(task_name, args=[1])
        assert _messages_waiting() == {name: int(name == queue) for name in QUEUES}
    finally:
        celery_app.control.purge()


@pytest.mark.django_db(transaction=True)
def test_without_a_worker_the_check_says_which_queues_did_not_answer(client):
    celery_app.control.purge()
    with override_settings(WORKER_PING_TIMEOUT=1):
        response = client.get("/healthz/worker")
    celery_app.control.purge()  # the unanswered pings must not reach a later test's worker
    body = json.loads(response.content)
    assert response.status_code == 503
    assert body["queues"]["routing"] == {"status": "no answer"}
    assert WorkerPing.objects.filter(answered_at__isnull=True).count() == 5


@pytest.mark.django_db
def test_a_second_check_at_the_same_moment_is_turned_away(client):
    cache.add("healthz:worker:running", True, timeout=5)
    response = client.get("/healthz/worker")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert WorkerPing.objects.count() == 0


@pytest.mark.django_db
def test_answering_a_ping_twice_changes_nothing_the_second_time():
    ping = WorkerPing.objects.create(queue="routing")
    assert actions.worker_ping_answer(ping_id=ping.pk, hostname="worker-a") is True
    first = WorkerPing.objects.get(pk=ping.pk)
    assert actions.worker_ping_answer(ping_id=ping.pk, hostname="worker-b") is False
    second = WorkerPing.objects.get(pk=ping.pk)
    assert (second.answered_at, second.answered_by) == (first.answered_at, "worker-a")


@pytest.mark.django_db
def test_old_pings_are_pruned_and_recent_ones_kept():
    old = WorkerPing.objects.create(queue="sla")
    recent = WorkerPing.objects.create(queue="sla")
    WorkerPing.objects.filter(pk=old.pk).update(sent_at=timezone.now() - timezone.timedelta(days=2))
    assert actions.worker_pings_prune() == 1
    assert list(WorkerPing.objects.values_list("pk", flat=True)) == [recent.pk]


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("approvals.tasks.route_application", "routing"),
        ("approvals.tasks.sweep_overdue_tasks", "sla"),
        ("interaction.tasks.send_notification", "notifications"),
        ("accounts.tasks.notify_legal_representative_changed", "notifications"),
        ("payments.tasks.reconcile_day", "payments"),
        ("portal.tasks.report_daily_figures", "reports"),
        ("portal.tasks.sweep_worker_pings", "sla"),
    ],
)
def test_tasks_are_routed_to_their_queue_by_name(task_name, queue):
    route = celery_app.amqp.router.route({}, task_name)
    assert route["queue"].name == queue


# Sent to one queue after another on purpose, so no route of its own.
SENT_TO_A_CHOSEN_QUEUE = {"portal.tasks.answer_worker_ping"}


def test_every_task_of_the_portal_matches_a_route():
    celery_app.loader.import_default_modules()
    ours = {name for name in celery_app.tasks if not name.startswith("celery.")}
    assert ours >= SENT_TO_A_CHOSEN_QUEUE
    unrouted = [
        name
        for name in sorted(ours - SENT_TO_A_CHOSEN_QUEUE)
        if not any(fnmatch(name, pattern) for pattern in settings.CELERY_TASK_ROUTES)
    ]
    assert unrouted == []


def test_worker_settings_survive_a_killed_worker():
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json"
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
