"""Public tracking (办件查询): number + query password, without logging in, and with limits against guessing.

A query password has a million values, so guessing is stopped by counting:
wrong answers per application number (then the number is locked for a while,
whoever asks) and attempts per client address (``core.addresses``). Counters
are ``core.limits``, shared by every web process. Nothing here says whether a
number exists.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.applications import selectors
from approvals.models import Application, ApplicationEvent
from approvals.timeline import event_text
from core import limits


@dataclass(frozen=True)
class TrackOutcome:
    application: Application | None
    message: str
    is_limited: bool = False


def track(*, number: str, password: str, address: str) -> TrackOutcome:
    """The application with this number and password, or why not (one message for every wrong pair)."""
    number = (number or "").strip().upper()
    window = settings.TRACK_LOCKOUT_SECONDS
    address_key = f"track:address:{address}"
    number_key = f"track:number:{number}"
    attempts, failures = limits.count(address_key, window=window, also_read=number_key)
    if attempts.value > settings.TRACK_ATTEMPTS_PER_ADDRESS or failures >= settings.TRACK_FAILURES_PER_NUMBER:
        return TrackOutcome(
            None,
            _("Too many attempts. Please wait %(minutes)d minutes and try again.") % {"minutes": max(1, window // 60)},
            is_limited=True,
        )
    application = selectors.tracked_application(number=number, password=password)
    if application is None:
        limits.count(number_key, window=window)
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
        # A department's result names its task and result (approvals.timeline): the public sees no opinion.
        PublicEvent(at=timezone.localtime(at), text=event_text(action, details), department=department or "")
        for at, action, department, details in selectors.timeline_steps(application, leaving_out=PRIVATE_ACTIONS)
    ]
