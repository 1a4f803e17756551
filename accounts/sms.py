"""Text messages (短信): the interface every sender implements, and the demo sender that keeps what it sends.

A real SMS gateway is another class with the same ``send``; the setting ``SMS_SENDER`` names it.
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from accounts.models import SmsOutboxMessage
from datahub.identity import mask_phone

logger = logging.getLogger(__name__)

DEFAULT_SMS_SENDER = "accounts.sms.ConsoleOutboxSmsSender"


class SmsSender(Protocol):
    def send(self, *, phone: str, text: str) -> None:
        """Send ``text`` to the mainland mobile number ``phone`` (11 digits)."""


class ConsoleOutboxSmsSender:
    """The demo sender: nothing leaves the server; each message is logged and kept in the staff outbox."""

    def send(self, *, phone: str, text: str) -> None:
        SmsOutboxMessage.objects.create(phone=phone, text=text)
        # The text holds a code, so the log shows the number masked only; the outbox page shows the rest.
        logger.info("SMS to %s: %s", mask_phone(phone), text)


def get_sms_sender() -> SmsSender:
    """The sender named by the ``SMS_SENDER`` setting (a dotted path to a class)."""
    sender_class = import_string(getattr(settings, "SMS_SENDER", DEFAULT_SMS_SENDER))
    sender: SmsSender = sender_class()
    return sender
