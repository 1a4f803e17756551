"""Writes of the site shell."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.queueing import send_task_on_commit
from portal.models import WorkerPing

PING_RETENTION = timedelta(days=1)


@transaction.atomic
def worker_pings_send() -> list[int]:
    """Write one ping per queue and send each to its queue once committed."""
    pings = WorkerPing.objects.bulk_create([WorkerPing(queue=queue) for queue in settings.CELERY_QUEUES])
    for ping in pings:
        send_task_on_commit("portal.tasks.answer_worker_ping", ping.pk, queue=ping.queue)
    return [ping.pk for ping in pings]


def worker_ping_answer(*, ping_id: int, hostname: str) -> bool:
    """Mark a ping answered; a second delivery of the same ping changes nothing."""
    updated = WorkerPing.objects.filter(pk=ping_id, answered_at__isnull=True).update(
        answered_at=timezone.now(), answered_by=hostname[:200]
    )
    return updated == 1


def worker_pings_prune() -> int:
    """Delete pings older than a day; they only matter while a check waits."""
    deleted, _ = WorkerPing.objects.filter(sent_at__lt=timezone.now() - PING_RETENTION).delete()
    return deleted
