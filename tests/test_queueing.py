"""Sending to the broker is a fast path: a failure costs one try, then the sweepers carry the work."""

from __future__ import annotations

from typing import Any

import pytest

from core import queueing


class FlakyTask:
    name = "tests.flaky"

    def __init__(self) -> None:
        self.calls = 0
        self.is_down = True

    def apply_async(self, **options: Any) -> None:
        self.calls += 1
        if self.is_down:
            raise ConnectionRefusedError("broker down")


def test_after_a_failed_send_the_broker_is_left_alone_for_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    task = FlakyTask()
    clock = [100.0]
    monkeypatch.setattr(queueing.time, "monotonic", lambda: clock[0])

    assert queueing.send_task_now(task) is False  # type: ignore[arg-type]
    assert queueing.send_task_now(task) is False  # type: ignore[arg-type]
    assert task.calls == 1  # the second send did not wait on the broker again

    task.is_down = False
    clock[0] += queueing.BROKER_PAUSE_SECONDS + 1
    assert queueing.send_task_now(task) is True  # type: ignore[arg-type]
    assert queueing.send_task_now(task) is True  # type: ignore[arg-type]
    assert task.calls == 3


def test_a_task_sent_by_name_reaches_the_broker_on_the_queue_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """A module below the tasks sends by name, without importing them; the broker gets the same message."""
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(queueing, "_broker_down_until", 0.0)
    monkeypatch.setattr(queueing.current_app, "send_task", lambda name, **options: sent.append((name, options)))

    assert queueing.send_task_now("portal.tasks.answer_worker_ping", 7, queue="reports") is True

    assert sent == [("portal.tasks.answer_worker_ping", {"args": (7,), "retry": False, "queue": "reports"})]
