"""Reads of the site shell."""

from __future__ import annotations

import time

from portal.models import WorkerPing


def worker_pings_wait(*, ping_ids: list[int], timeout: float, interval: float = 0.05) -> list[WorkerPing]:
    """Wait until every ping is answered or ``timeout`` seconds pass; return the pings."""
    deadline = time.monotonic() + timeout
    while True:
        pings = list(WorkerPing.objects.filter(pk__in=ping_ids).order_by("pk"))
        if all(ping.answered_at for ping in pings) or time.monotonic() >= deadline:
            return pings
        time.sleep(interval)
