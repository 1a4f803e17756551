"""Every write to the inbox. ``notify`` is the one way any app tells a user something."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone

from core.registry import Hooks
from interaction import events, selectors
from interaction.models import Message

# Where e-mail, SMS and the user's preferences plug in: each channel is called with the
# stored message once the caller's transaction commits. None yet: the inbox itself is the
# channel. A channel that must not lose a message writes a row and hands its id to a task.
channels: Hooks[[Message]] = Hooks("interaction.channels")


def notify(user: AbstractBaseUser | int, event: str, context: dict[str, Any]) -> Message:
    """Store a message of ``event`` for ``user`` (an instance or an id), in the caller's transaction.

    ``context`` fills the event's templates when the message is shown: plain JSON values
    only (see ``interaction.events``). Raises ValueError for an unknown event, a context
    that is not a JSON object of plain values, or a link that is not a path on this site.
    """
    definition = events.EVENTS.get(event)
    if definition is None:
        raise ValueError(f"unknown event {event!r}: register it in interaction.events first")
    if not isinstance(context, dict) or not all(isinstance(key, str) for key in context):
        raise ValueError("the context must be a dict with string keys")
    try:
        json.dumps(context, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"the context of {event!r} is not plain JSON: {error}") from error
    link_key = definition.link_key
    if link_key is not None and link_key in context and not events.is_site_path(context[link_key]):
        raise ValueError(f"the link of {event!r} must be a path on this site, such as /me/")
    recipient_id = user if isinstance(user, int) else user.pk
    message = Message.objects.create(recipient_id=recipient_id, event=event, context=context)
    for channel in channels:
        # robust: a failing channel is logged by Django and neither undoes the message nor stops the others.
        transaction.on_commit(partial(channel, message), robust=True)
    return message


def message_mark_read(*, user: AbstractBaseUser | AnonymousUser, message_id: int) -> Message:
    """Mark one of the user's messages read; reading it again changes nothing. NotFound for another's."""
    message = selectors.message_for(user, message_id)
    if message.read_at is None:
        now = timezone.now()
        # Conditional: of two requests at once, one sets the time and the other keeps it.
        if Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=now):
            message.read_at = now
        else:
            message.refresh_from_db(fields=["read_at"])
    return message


def messages_mark_all_read(*, user: AbstractBaseUser | AnonymousUser) -> int:
    """Mark every unread message of the user read; return how many were."""
    return selectors.messages_for(user).filter(read_at__isnull=True).update(read_at=timezone.now())
