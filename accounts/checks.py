"""System checks of accounts' deploy-time settings (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.utils.module_loading import import_string

from accounts.sms import DEFAULT_SMS_SENDER


@register(Tags.security, deploy=True)
def check_sms_sender(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """With DEBUG off, codes must really be texted: the demo sender keeps them readable in the outbox instead."""
    sender = getattr(settings, "SMS_SENDER", DEFAULT_SMS_SENDER)
    try:
        import_string(sender)
    except ImportError as error:
        return [Error(f"SMS_SENDER {sender!r} cannot be imported: {error}", id="accounts.E002")]
    if settings.DEBUG or sender != DEFAULT_SMS_SENDER or getattr(settings, "SMS_DEMO_ALLOWED", False):
        return []
    return [
        Error(
            "SMS_SENDER is the demo sender (accounts.sms.ConsoleOutboxSmsSender) and DEBUG is off: no code reaches "
            "a phone, and every code is readable in the demo outbox.",
            hint="Set SMS_SENDER to your SMS gateway's class (it implements accounts.sms.SmsSender), or "
            "SMS_DEMO_ALLOWED=true for a demonstration installation.",
            id="accounts.E001",
        )
    ]
