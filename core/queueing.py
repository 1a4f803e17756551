"""Hand tasks to the broker after the transaction that made them necessary commits.

Sending is a fast path only: when the broker is down the request still
succeeds, the failure is logged, and whatever durable row promised the work
is picked up again by a sweeper.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Task, current_app
from django.db import transaction

logger = logging.getLogger(__name__)


# After a failed send, this process does not try the broker again for a while: each try costs the
# connection timeout, and a request sending several messages would wait for each. The rows stay; sweepers send.
BROKER_PAUSE_SECONDS = 30.0
_broker_down_until = 0.0


def send_task_now(task: Task | str, *args: Any, queue: str | None = None) -> bool:
    """Publish ``task`` (a task, or a task's name: a module below the tasks need not import them); return whether
    the broker took it."""
    global _broker_down_until
    name = task if isinstance(task, str) else task.name
    if time.monotonic() < _broker_down_until:
        logger.warning("broker recently unreachable: %s left to the sweeper", name)
        return False
    options: dict[str, Any] = {"retry": False}
    if queue is not None:
        options["queue"] = queue
    try:
        if isinstance(task, str):
            current_app.send_task(task, args=args, **options)
        else:
            task.apply_async(args=args, **options)
    except Exception:
        logger.exception("could not send task %s to the broker", name)
        _broker_down_until = time.monotonic() + BROKER_PAUSE_SECONDS
        return False
    _broker_down_until = 0.0
    return True


def send_task_on_commit(task: Task | str, *args: Any, queue: str | None = None) -> None:
    """Publish ``task`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: send_task_now(task, *args, queue=queue), robust=True)
