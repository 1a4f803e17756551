"""Routing when things fail: killed workers, duplicate messages, a broker that is down, clerks racing for tasks.

Two tests start real workers as separate processes (``celery -A portal worker``, on
the test database and the test broker) and kill them with SIGKILL:

- ``test_a_worker_killed_while_routing_…``: the whole worker (its process group)
  dies inside ``outbox_process``; after a restart every application is routed
  exactly once, the stuck one in the batch of the first message the restarted
  worker takes (Redis would hand its own message out again only after the
  visibility timeout, ``CELERY_TASK_TIME_LIMIT`` + 300 s; with no other traffic the
  outbox sweeper sends it again after a minute).
- ``test_a_pool_process_killed_while_routing_…``: only the prefork pool process
  dies; its parent hands the message back at once (``acks_late`` with
  ``reject_on_worker_lost``) and the next pool process routes it.

A worker is held inside its routing transaction by a lock the test takes with a
connection of its own, so each kill lands at a known point.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone
from kombu import Connection

from accounts.models import StaffRole, User
from approvals import outbox
from approvals.applications import submission
from approvals.models import Application, ApplicationEvent, Outbox, WorkflowTask
from approvals.routing import engine
from approvals.tasks import route_application, sweep_outbox
from approvals.workbench import actions as workbench_actions
from approvals.workflow import ACCEPT
from core import queueing
from core.errors import Conflict
from core.queueing import send_task_now
from portal.celery import app as celery_app
from portal.models import WorkerPing
from portal.tasks import answer_worker_ping
from tests.approvals.builders import claim_and_decide, ready_draft, submitted
from tests.approvals.helpers import promises_of, wait_for
from tests.factories import staff_member

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("upload_root")]

ROOT = Path(__file__).resolve().parents[2]
ROUTE_TASK = "approvals.tasks.route_application"


def tasks_of(application: Application) -> list[tuple[str, int, str]]:
    tasks = WorkflowTask.objects.filter(application=application).order_by("pk")
    return list(tasks.values_list("stage_key", "stage_round", "status"))


def routings_of(application: Application) -> int:
    return ApplicationEvent.objects.filter(application=application, action="routed").count()


def assert_routed_once(application: Application, *, by: str) -> None:
    """The first stage is open once, routing ran once, and the one routing row was processed once."""
    routed = (tasks_of(application), routings_of(application), promises_of(application))
    assert routed == ([("accept", 1, "pending")], 1, [(True, 1)]), f"application {application.pk}, routed by {by}"


# --- the broker --------------------------------------------------------------------------


def broker() -> redis.Redis:
    return redis.Redis.from_url(str(settings.CELERY_BROKER_URL))


def fresh_queues() -> None:
    """Declare the queues as a worker does (so a message sent before any worker starts is kept) and empty them."""
    with celery_app.connection_for_write() as broker_connection:
        for queue in celery_app.amqp.queues.values():
            queue(broker_connection.default_channel).declare()
    celery_app.control.purge()  # messages left by an interrupted run would be answered first


def unacknowledged(outbox_id: int) -> list[bytes | str]:
    """Delivery tags of routing messages for this row that a worker took and never acknowledged.

    On Redis a delivered message waits in the ``unacked`` hash until it is acknowledged;
    a worker hands out again only those older than the visibility timeout.
    """
    tags = []
    for tag, stored in broker().hgetall("unacked").items():
        message, _exchange, _routing_key = json.loads(stored)
        headers = message.get("headers") or {}
        if headers.get("task") == ROUTE_TASK and headers.get("argsrepr") == f"({outbox_id},)":
            tags.append(tag)
    return tags


def forget_unacknowledged(outbox_ids: Iterable[int]) -> None:
    """Drop what a killed worker left unacknowledged for these rows, so that no later run is handed it."""
    client = broker()
    for outbox_id in outbox_ids:
        for tag in unacknowledged(outbox_id):
            client.zrem("unacked_index", tag)
            client.hdel("unacked", tag)


def hand_out_again(tag: bytes | str) -> None:
    """What a worker does with an unacknowledged message once the visibility timeout has passed."""
    with celery_app.connection_for_write() as broker_connection:
        channel: Any = broker_connection.default_channel  # kombu's Redis channel
        channel.qos.restore_by_tag(tag)


def ping_through(queue: str) -> WorkerPing:
    """Send a ping behind what waits in ``queue`` and wait for its answer: a worker has done everything before it."""
    ping = WorkerPing.objects.create(queue=queue)
    assert send_task_now(answer_worker_ping, ping.pk, queue=queue) is True
    assert wait_for(lambda: WorkerPing.objects.filter(pk=ping.pk, answered_at__isnull=False).exists()), (
        f"no worker answered on {queue}"
    )
    return WorkerPing.objects.get(pk=ping.pk)


# --- the database ------------------------------------------------------------------------


@dataclass
class Lock:
    backend: int  # the PostgreSQL process holding the lock

    def waiting(self) -> list[int]:
        """The PostgreSQL processes waiting for this lock."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid)) ORDER BY backend_start",
                [self.backend],
            )
            return [pid for (pid,) in cursor.fetchall()]


@contextmanager
def locked(statement: str, *parameters: Any) -> Iterator[Lock]:
    """Hold the lock ``statement`` takes, in a transaction of a connection of its own, until the block ends."""
    holder = connections.create_connection("default")  # a second connection to the test database
    assert holder.settings_dict["NAME"] == connection.settings_dict["NAME"]
    holder.set_autocommit(False)
    try:
        with holder.cursor() as cursor:
            cursor.execute(statement, parameters)
            cursor.execute("SELECT pg_backend_pid()")
            (backend,) = cursor.fetchone()
        yield Lock(backend=backend)
    finally:
        holder.rollback()
        holder.close()


def backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


def terminate_backend(pid: int) -> None:
    """End a server process whose client died, as PostgreSQL does once it notices (keepalives, the next write)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    assert wait_for(lambda: not backend_alive(pid)), f"backend {pid} did not end"


# --- workers in processes of their own ---------------------------------------------------


def worker_environment() -> dict[str, str]:
    """This run's database and broker, for a fresh process; tests.settings sets DEBUG=false and the test keys."""
    database = connection.settings_dict
    credentials = quote(database["USER"] or "") + (f":{quote(database['PASSWORD'])}" if database["PASSWORD"] else "")
    address = f"{database['HOST'] or 'localhost'}:{database['PORT'] or 5432}"
    environment = dict(os.environ)
    environment.update(
        DATABASE_URL=f"postgres://{credentials}@{address}/{quote(database['NAME'])}",  # test_<name>
        REDIS_URL=str(settings.REDIS_URL),
        CELERY_BROKER_URL=str(settings.CELERY_BROKER_URL),
        DJANGO_SETTINGS_MODULE="tests.settings",
        PYTHONPATH=str(ROOT),
    )
    return environment


@dataclass
class WorkerProcess:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def pool_processes(self) -> list[int]:
        """The worker's child processes (its prefork pool), by the parent id in /proc/<pid>/stat."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # "pid (command) state ppid …": the command may hold spaces and parentheses.
                state_and_parent = stat.read_text().rsplit(")", 1)[1].split()[:2]
            except OSError:
                continue  # the process ended meanwhile
            if int(state_and_parent[1]) == self.process.pid and state_and_parent[0] != "Z":
                children.append(int(stat.parent.name))
        return sorted(children)

    def kill(self) -> None:
        """SIGKILL to the whole worker: its process group, pool processes included."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """A warm shutdown (SIGTERM), as a deployment stops a worker."""
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start ``celery -A portal worker`` in a process group of its own; every one still running is killed after."""
    started: list[WorkerProcess] = []

    def start(label: str, *, queues: str = "routing", pool: str = "solo") -> WorkerProcess:
        name = f"faults-{label}-{uuid.uuid4().hex[:6]}"
        log_path = tmp_path / f"{name}.log"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "-Q",
            queues,
            "--concurrency",
            "1",
            "--pool",
            pool,
            "-l",
            "info",
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=worker_environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = WorkerProcess(name=name, process=process, log_path=log_path)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.kill()
    forget_unacknowledged(Outbox.objects.values_list("pk", flat=True))


# --- a worker killed while routing ---------------------------------------------------------


@pytest.mark.worker
def test_a_worker_killed_while_routing_leaves_every_application_routed_exactly_once_after_a_restart(
    start_worker, item, citizen
):
    fresh_queues()
    stuck = submitted(citizen, item)  # no worker yet: its routing message waits in the queue
    stuck_row = Outbox.objects.get(application=stuck)

    with locked("SELECT id FROM approvals_application WHERE id = %s FOR UPDATE", stuck.pk) as lock:
        killed = start_worker("killed")
        # It took the message, claimed the outbox row, and waits for the application inside its transaction.
        assert wait_for(lambda: len(lock.waiting()) == 1), f"the worker never reached the lock:\n{killed.log()}"
        [orphan] = lock.waiting()
        waiting = [submitted(citizen, item) for _ in range(2)]  # one message at a time: these wait in the queue
        assert broker().llen("routing") == 2
        assert len(unacknowledged(stuck_row.pk)) == 1

        killed.kill()

    # Without its client the server process ends once it gets the lock, and its transaction with it.
    assert wait_for(lambda: not backend_alive(orphan)), "the killed worker's transaction never ended"
    assert Outbox.objects.filter(processed_at__isnull=False).count() == 0
    assert WorkflowTask.objects.count() == 0

    restarted = start_worker("restarted", queues="routing,sla")
    answered = ping_through("routing")  # behind the two messages that waited
    assert answered.answered_by.startswith(restarted.name)
    for application in waiting:
        assert_routed_once(application, by="the restarted worker, from the queue where their messages waited")
    # The first of them took the stuck promise along in its batch: it waits neither for the sweep nor for Redis.
    assert_routed_once(stuck, by="the restarted worker's first batch (its own message is still unacknowledged)")
    assert celery_app.conf.broker_transport_options["visibility_timeout"] >= 300
    assert len(unacknowledged(stuck_row.pk)) == 1
    assert promises_of(stuck) == [(True, 1)]

    # The beat sweep finds nothing left to send again.
    Outbox.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=2))
    assert outbox.outbox_sweep() == 0

    # Ten minutes on, Redis hands the killed worker's message out again: routing it changes nothing.
    [tag] = unacknowledged(stuck_row.pk)
    hand_out_again(tag)
    ping_through("routing")
    assert unacknowledged(stuck_row.pk) == []
    for application in (stuck, *waiting):
        assert_routed_once(application, by="one routing only: the late redelivery found the row processed")
    restarted.stop()
    assert restarted.process.returncode == 0, restarted.log()


@pytest.mark.worker
def test_a_pool_process_killed_while_routing_has_its_message_handed_back_at_once_and_routed_once(
    start_worker, item, citizen
):
    fresh_queues()
    application = submitted(citizen, item)  # no worker yet: its routing message waits in the queue
    promise = Outbox.objects.get(application=application)

    # Reads pass; claiming an outbox row (SELECT … FOR UPDATE) waits: the worker holds no row when it dies.
    with locked("LOCK TABLE approvals_outbox IN EXCLUSIVE MODE") as lock:
        worker = start_worker("prefork", pool="prefork")
        assert wait_for(lambda: len(lock.waiting()) == 1), f"the worker never reached the lock:\n{worker.log()}"
        [orphan] = lock.waiting()
        [pool_process] = worker.pool_processes()

        os.kill(pool_process, signal.SIGKILL)

        # The parent sees its pool process die and rejects the message back to the queue
        # (reject_on_worker_lost); the next pool process takes it and waits for the lock in turn.
        assert wait_for(lambda: len(lock.waiting()) == 2), f"the message was not handed back:\n{worker.log()}"
        assert worker.pool_processes() not in ([], [pool_process])
        terminate_backend(orphan)

    assert wait_for(lambda: Outbox.objects.filter(pk=promise.pk, processed_at__isnull=False).exists()), (
        f"the message handed back was not routed:\n{worker.log()}"
    )
    assert_routed_once(application, by="the broker: the message the lost pool process held was handed back")
    assert unacknowledged(promise.pk) == []
    assert "WorkerLostError" in worker.log()
    worker.stop()


# --- the same message twice ------------------------------------------------------------------


@pytest.mark.worker
def test_the_same_routing_message_delivered_twice_opens_one_set_of_tasks(
    celery_worker, item, citizen, clerk, monkeypatch
):
    monkeypatch.setattr(outbox, "outbox_send", lambda outbox_id: None)  # the test sends the messages
    application = submitted(citizen, item)
    submission = Outbox.objects.get()

    message_id = str(uuid.uuid4())
    for _ in range(2):
        route_application.apply_async(args=(submission.pk,), task_id=message_id)
    ping_through("routing")

    assert_routed_once(application, by="the first of two identical messages; the second found the row processed")

    # A decision's routing sent twice moves the application on once too.
    claim_and_decide(WorkflowTask.objects.get(application=application).pk, clerk, ACCEPT)
    decision = Outbox.objects.exclude(pk=submission.pk).get()
    message_id = str(uuid.uuid4())
    for _ in range(2):
        route_application.apply_async(args=(decision.pk,), task_id=message_id)
    ping_through("routing")

    assert tasks_of(application) == [("accept", 1, "done"), ("review", 2, "pending")]
    assert (Application.objects.get(pk=application.pk).status, routings_of(application)) == ("in_review", 2)
    assert promises_of(application) == [(True, 1), (True, 1)]


# --- the broker down at submission ------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def broker_unreachable_for_routing() -> Iterator[None]:
    """Routing messages go to a broker address where nothing listens, as when Redis is down; the worker is untouched."""
    dead = Connection(f"redis://127.0.0.1:{closed_port()}/0", connect_timeout=0.5)
    send: Callable[..., Any] = celery_app.send_task

    def send_routing_to_dead_broker(name: str, *args: Any, **options: Any) -> Any:
        # The outbox sends the routing task by its name.
        if name == ROUTE_TASK:
            options["connection"] = dead
        return send(name, *args, **options)

    celery_app.send_task = send_routing_to_dead_broker  # type: ignore[method-assign]
    try:
        yield
    finally:
        del celery_app.send_task
        dead.release()


@pytest.mark.worker
def test_a_submission_while_the_broker_is_down_succeeds_and_the_sweeper_routes_it_once(
    celery_worker, item, citizen, caplog
):
    draft = ready_draft(citizen, item)

    with broker_unreachable_for_routing():
        application, response = submission.application_submit(application_id=draft.pk, user=citizen)

    assert (response["status"], response["number"]) == ("submitted", application.number)
    assert application.number.startswith(item.implementation_code)
    assert Application.objects.get(pk=draft.pk).status == "submitted"
    failures = [record for record in caplog.records if record.name == "core.queueing"]
    assert [record.getMessage() for record in failures] == [f"could not send task {ROUTE_TASK} to the broker"]
    # This process now leaves the broker alone for a while (BROKER_PAUSE_SECONDS); the broker is back: that time passed.
    assert queueing.send_task_now(sweep_outbox) is False
    queueing._broker_down_until = 0.0
    ping_through("routing")  # the worker is there, and was given nothing to route
    assert (tasks_of(application), promises_of(application)) == ([], [(False, 0)])

    # The sweep leaves a promise younger than a minute (its own send may still be on the way) …
    assert send_task_now(sweep_outbox) is True
    ping_through("sla")
    ping_through("routing")
    assert (tasks_of(application), promises_of(application)) == ([], [(False, 0)])

    # … and sends it once it is older.
    Outbox.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=2))
    assert send_task_now(sweep_outbox) is True
    assert wait_for(lambda: Outbox.objects.filter(processed_at__isnull=False).exists()), "the sweep did not route it"
    assert_routed_once(application, by="the outbox sweep, once the broker was back")

    assert send_task_now(sweep_outbox) is True  # nothing is left to send
    ping_through("sla")
    ping_through("routing")
    assert_routed_once(application, by="the first sweep only")


# --- clerks racing for the same tasks ---------------------------------------------------------------


def test_ten_clerks_claiming_the_same_five_tasks_at_once_get_each_task_exactly_once(
    item, citizen, department, monkeypatch
):
    monkeypatch.setattr(outbox, "outbox_send", lambda outbox_id: None)
    applications = [submitted(citizen, item) for _ in range(5)]
    for promise in Outbox.objects.order_by("pk"):
        engine.outbox_process(outbox_id=promise.pk)
    assert not Outbox.objects.filter(processed_at__isnull=True).exists()
    task_ids = sorted(WorkflowTask.objects.filter(status="pending").values_list("pk", flat=True))
    assert len(task_ids) == 5
    assert set(WorkflowTask.objects.values_list("department_id", flat=True)) == {department.pk}
    clerks = [staff_member(f"racer{number}@example.com", department, StaffRole.CLERK) for number in range(10)]
    barrier = threading.Barrier(len(clerks))
    claims: list[tuple[int, int]] = []  # (task, clerk)
    conflicts: list[str] = []
    errors: list[BaseException] = []

    def race(clerk: User, seed: int) -> None:
        order = list(task_ids)
        random.Random(seed).shuffle(order)
        try:
            barrier.wait(timeout=30)
            for task_id in order:
                try:
                    workbench_actions.task_claim(task_id=task_id, clerk=clerk)
                except Conflict as conflict:
                    conflicts.append(conflict.code)
                else:
                    claims.append((task_id, clerk.pk))
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(clerk, seed)) for seed, clerk in enumerate(clerks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads), "a clerk's claim hung"
    assert errors == []
    assert sorted(task_id for task_id, _clerk in claims) == task_ids
    assert (len(conflicts), set(conflicts)) == (45, {"task_taken"})
    held = WorkflowTask.objects.filter(pk__in=task_ids).order_by("pk").values_list("pk", "status", "assignee_id")
    assert list(held) == [(task_id, "claimed", clerk_id) for task_id, clerk_id in sorted(claims)]
    assert {application.pk for application in applications} == set(
        WorkflowTask.objects.values_list("application_id", flat=True)
    )
