"""Tasks the routing benchmark sends beside the real ones (the worker loads them with ``--include bench.tasks``)."""

import time

from celery import shared_task
from django.core.cache import cache

MARK_SECONDS = 3600


@shared_task(name="bench.tasks.noop")
def noop() -> None:
    """Nothing: what a task costs the broker and the worker before it does any work."""


@shared_task(name="bench.tasks.mark")
def mark(key: str) -> None:
    """Note when the worker reached this point of the queue (tasks run in order: one process, prefetch 1)."""
    cache.set(key, time.time(), timeout=MARK_SECONDS)
