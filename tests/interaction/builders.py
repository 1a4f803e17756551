"""Messages for the inbox's tests."""

from __future__ import annotations

import datetime

from django.utils import timezone

from accounts.models import User
from interaction import actions
from interaction.models import Message


def submitted_message(user: User, number: str, *, minutes_ago: int = 0) -> Message:
    """The message an applicant gets when application ``number`` is submitted, sent ``minutes_ago``."""
    message = actions.notify(
        user, "application_submitted", {"number": number, "service_name": "结婚登记", "url": "/me/"}
    )
    # Distinct times, so that "newest first" is what a test checks, not the order of the ids.
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago))
    return Message.objects.get(pk=message.pk)
