"""Public tracking (办件查询): number + query password, without logging in, and with limits against guessing.

A query password has a million values, so guessing is stopped by counting:
wrong answers per application number (then the number is locked for a while,
whoever asks) and attempts per client address. Counters live in the cache
(Redis in production), shared by every web process. Nothing here says whether a
number exists.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import BaseCache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals import selectors
from approvals.models import Application, ApplicationEvent
from portal.cache import redis_client


@dataclass(frozen=True)
class TrackOutcome:
    application: Application | None
    message: str
    is_limited: bool = False


def client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _count(key: str, window: int, *, also_read: str = "") -> tuple[int, int]:
    """Add one to a counter that starts when first touched and ends ``window`` seconds later.

    Returns its new value, and the value of the counter ``also_read`` (0 when it is absent or not
    asked for). On Redis this is one round trip, the request's whole share of the guessing limits.
    """
    backend = caches[DEFAULT_CACHE_ALIAS]
    # Django's cache API sends one command per call; its Redis client can send several at once.
    client = redis_client()
    if client is None:  # the embedded setup's in-memory cache
        other = int(backend.get(also_read) or 0) if also_read else 0
        return _count_with_cache_calls(backend, key, window), other
    counter = backend.make_and_validate_key(key)
    # MULTI/EXEC: the counter cannot expire between its start and its increment (it would then never expire).
    pipeline = client.pipeline(transaction=True)
    pipeline.set(counter, 0, ex=window, nx=True)
    pipeline.incr(counter)
    if also_read:
        pipeline.get(backend.make_and_validate_key(also_read))
    replies = pipeline.execute()
    other = int(replies[2] or 0) if also_read else 0
    return int(replies[1]), other


def _count_with_cache_calls(backend: BaseCache, key: str, window: int) -> int:
    if backend.add(key, 1, timeout=window):
        return 1
    try:
        return int(backend.incr(key))
    except ValueError:  # it expired between add and incr
        backend.add(key, 1, timeout=window)
        return 1


def track(*, number: str, password: str, address: str) -> TrackOutcome:
    """The application with this number and password, or why not (one message for every wrong pair)."""
    number = (number or "").strip().upper()
    window = settings.TRACK_LOCKOUT_SECONDS
    address_key = f"track:address:{address}"
    number_key = f"track:number:{number}"
    attempts, failures = _count(address_key, window, also_read=number_key)
    if attempts > settings.TRACK_ATTEMPTS_PER_ADDRESS or failures >= settings.TRACK_FAILURES_PER_NUMBER:
        return TrackOutcome(
            None,
            _("Too many attempts. Please wait %(minutes)d minutes and try again.") % {"minutes": max(1, window // 60)},
            is_limited=True,
        )
    application = selectors.tracked_application(number=number, password=password)
    if application is None:
        _count(number_key, window)
        return TrackOutcome(None, _("No application matches this number and query password."))
    return TrackOutcome(application, "")


# Steps the public timeline leaves out: the draft's own history and the queue's comings and goings.
PRIVATE_ACTIONS = {
    ApplicationEvent.Action.CREATED,
    ApplicationEvent.Action.PREFILLED,
    ApplicationEvent.Action.TASK_RELEASED,
    ApplicationEvent.Action.TASK_REASSIGNED,
}


@dataclass(frozen=True)
class PublicEvent:
    at: datetime.datetime
    text: str
    department: str


def public_timeline(application: Application) -> list[PublicEvent]:
    """What happened and which department acted, without names, notes or any personal data."""
    return [
        PublicEvent(
            at=timezone.localtime(at),
            text=str(ApplicationEvent.Action(action).label),
            department=department or "",
        )
        for at, action, department in selectors.timeline_steps(application, leaving_out=PRIVATE_ACTIONS)
    ]
