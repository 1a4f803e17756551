"""Public tracking (办件查询): number + query password, without logging in, and with limits against guessing.

A query password has a million values, so guessing is stopped by counting:
wrong answers per application number (then the number is locked for a while,
whoever asks) and attempts per client address. Counters live in the cache
(Redis in production), shared by every web process. Nothing here says whether a
number exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals import selectors
from approvals.models import Application, ApplicationEvent


@dataclass(frozen=True)
class TrackOutcome:
    application: Application | None
    message: str
    is_limited: bool = False


def client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _count(key: str, window: int) -> int:
    """Add one to a counter that starts when first touched and ends ``window`` seconds later."""
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # it expired between add and incr
        cache.add(key, 1, timeout=window)
        return 1


def _value(key: str) -> int:
    return int(cache.get(key) or 0)


def track(*, number: str, password: str, address: str) -> TrackOutcome:
    """The application with this number and password, or why not (one message for every wrong pair)."""
    number = (number or "").strip().upper()
    window = settings.TRACK_LOCKOUT_SECONDS
    address_key = f"track:address:{address}"
    number_key = f"track:number:{number}"
    limited = TrackOutcome(
        None,
        _("Too many attempts. Please wait %(minutes)d minutes and try again.") % {"minutes": max(1, window // 60)},
        is_limited=True,
    )
    if _count(address_key, window) > settings.TRACK_ATTEMPTS_PER_ADDRESS:
        return limited
    if _value(number_key) >= settings.TRACK_FAILURES_PER_NUMBER:
        return limited
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
    at: object
    text: str
    department: str


def public_timeline(application: Application) -> list[PublicEvent]:
    """What happened and which department acted, without names, notes or any personal data."""
    events = selectors.timeline(application)
    return [
        PublicEvent(
            at=timezone.localtime(event.at),
            text=str(ApplicationEvent.Action(event.action).label),
            department=event.department.name if event.department else "",
        )
        for event in events
        if event.action not in PRIVATE_ACTIONS
    ]
