"""Helpers of the accounts tests: codes from e-mails and authenticators."""

from __future__ import annotations

import re
import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail

_CODE_LINE = re.compile(r"^[A-Z0-9]{3,}(?:-[A-Z0-9]+)*$")


def last_mailed_code(to: str) -> str:
    """The verification code of the last e-mail sent to ``to``."""
    messages = [message for message in mail.outbox if to in message.to]
    assert messages, f"no e-mail to {to}"
    codes = [line.strip() for line in messages[-1].body.splitlines() if _CODE_LINE.match(line.strip())]
    assert len(codes) == 1, messages[-1].body
    return codes[0]


def totp_code(secret: str, *, at: float | None = None) -> str:
    """The current TOTP code of ``secret``, computed as allauth computes it."""
    return format_hotp_value(hotp_value(secret, int(at if at is not None else time.time()) // 30))
