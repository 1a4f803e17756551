"""Reads of the inbox, always scoped to the user asking."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.errors import NotFound
from interaction.models import Message


def messages_for(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Message]:
    """The user's own messages, newest first; none for an anonymous visitor."""
    if not user.is_authenticated:
        return Message.objects.none()
    return Message.objects.filter(recipient_id=user.pk).order_by("-created_at", "-pk")


def unread_count(user: AbstractBaseUser | AnonymousUser) -> int:
    """How many of the user's messages are unread; 0, without a query, for an anonymous visitor."""
    if not user.is_authenticated:
        return 0
    return Message.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


def message_for(user: AbstractBaseUser | AnonymousUser, message_id: int) -> Message:
    """One of the user's own messages; NotFound for anyone else's, so as not to confirm it exists."""
    message = messages_for(user).filter(pk=message_id).first()
    if message is None:
        raise NotFound(_("There is no such message."), code="message_not_found")
    return message
