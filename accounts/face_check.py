"""高级实名 by a face check: the interface every provider implements, and the demo provider.

A real provider (可信身份认证, a bank-grade liveness vendor) is another class with the same
``start`` and ``parse_result``; the setting ``FACE_CHECK_PROVIDER`` names it and
``FACE_CHECK_SECRET`` is the key it signs its results with.

The path of one check:

1. the portal records a pending ``FaceCheck`` and calls ``start`` with the account's verified
   name and document; the provider answers with the URL of its page (or a token for its app SDK);
2. the person is sent there, shows their face, and is sent back to ``return_url``;
3. the provider POSTs the result to the callback (or the portal fetches it): a JSON body
   ``{"check_id", "result": "pass"|"fail", "score", "reason", "timestamp"}`` with the header
   ``X-Face-Check-Signature: sha256=<hex HMAC-SHA256 of the body under the shared secret>``;
4. ``parse_result`` checks the signature and the timestamp, ``real_name.face_check_complete``
   the rest (a known, pending check; single use).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from accounts.models import FaceCheck
from core.errors import DomainError, NotFound

DEFAULT_FACE_CHECK_PROVIDER = "accounts.face_check.DemoFaceCheckProvider"
SIGNATURE_HEADER = "X-Face-Check-Signature"
SIGNATURE_PREFIX = "sha256="
# How far the result's timestamp may be from our clock, either way: a captured body cannot be replayed later.
MAX_CLOCK_SKEW_SECONDS = 5 * 60
RESULT_MATCH = "pass"
RESULT_NO_MATCH = "fail"
_DEMO_SECRET_PURPOSE = b"face-check-demo-secret"


@dataclass(frozen=True)
class FaceCheckResult:
    """What the provider says of one check, once its signature has been verified."""

    check_id: str
    passed: bool
    score: float | None
    reason: str


class FaceCheckProvider(Protocol):
    def start(self, *, check_id: str, name: str, id_type: str, id_number: str, return_url: str) -> str:
        """Open a check of the person with this verified name and document; return the URL to send them to.

        ``check_id`` is the portal's reference, echoed in the result; ``return_url`` is where
        the provider sends the person back. Raises DomainError when the provider refuses.
        """

    def parse_result(self, body: bytes, headers: Mapping[str, str]) -> FaceCheckResult:
        """The result in a callback body, or a DomainError when its signature or timestamp is not right."""


def face_check_provider_path() -> str:
    """The dotted path of the configured provider class: recorded on each check as its method."""
    return getattr(settings, "FACE_CHECK_PROVIDER", "") or DEFAULT_FACE_CHECK_PROVIDER


def face_check_provider() -> FaceCheckProvider:
    """The provider named by the ``FACE_CHECK_PROVIDER`` setting (a dotted path to a class)."""
    provider_class = import_string(face_check_provider_path())
    provider: FaceCheckProvider = provider_class()
    return provider


def is_demo_enabled() -> bool:
    """The demo provider works only in DEBUG, or where ``FACE_CHECK_DEMO`` turns it on (a demo server)."""
    return face_check_provider_path() == DEFAULT_FACE_CHECK_PROVIDER and bool(
        settings.DEBUG or getattr(settings, "FACE_CHECK_DEMO", False)
    )


def unavailable() -> DomainError:
    """The error of a face check that cannot be started or taken here now."""
    return DomainError(
        _("The face check is not available at the moment. You can confirm your identity at a service counter."),
        code="face_check_unavailable",
    )


def face_check_secret() -> bytes:
    """The key shared with the provider; for the demo without one, a key derived from SECRET_KEY."""
    secret = getattr(settings, "FACE_CHECK_SECRET", "") or ""
    if secret:
        return secret.encode("utf-8")
    if is_demo_enabled():
        return hmac.new(settings.SECRET_KEY.encode("utf-8"), _DEMO_SECRET_PURPOSE, hashlib.sha256).digest()
    raise unavailable()


def canonical_body(payload: Mapping[str, Any]) -> bytes:
    """The one byte string a payload is signed as: JSON, keys sorted, no spaces, UTF-8."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature(body: bytes, secret: bytes) -> str:
    return SIGNATURE_PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signed_result(
    *,
    check_id: str,
    passed: bool,
    score: float | None,
    reason: str,
    secret: bytes,
    timestamp: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a result as a provider sends it (the demo provider, and tests)."""
    payload = {
        "check_id": check_id,
        "result": RESULT_MATCH if passed else RESULT_NO_MATCH,
        "score": score,
        "reason": reason,
        "timestamp": int(time.time()) if timestamp is None else timestamp,
    }
    body = canonical_body(payload)
    return body, {SIGNATURE_HEADER: signature(body, secret)}


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), "")


def verify_signed_result(body: bytes, headers: Mapping[str, str], *, secret: bytes) -> FaceCheckResult:
    """Check a result's signature over its raw body, then its timestamp, then its shape."""
    refused = DomainError(_("The face-check result is not signed correctly."), code="bad_signature")
    given = _header(headers, SIGNATURE_HEADER)
    if not given or not hmac.compare_digest(given.encode("utf-8"), signature(body, secret).encode("utf-8")):
        raise refused
    malformed = DomainError(_("The face-check result cannot be read."), code="malformed_result")
    try:
        payload = json.loads(body)
    except ValueError:
        raise malformed from None
    if not isinstance(payload, dict):
        raise malformed
    timestamp = payload.get("timestamp")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        raise malformed
    if abs(time.time() - timestamp) > MAX_CLOCK_SKEW_SECONDS:
        raise DomainError(_("The face-check result is too old or from the future."), code="stale_result")
    check_id = payload.get("check_id")
    result = payload.get("result")
    score = payload.get("score")
    reason = payload.get("reason", "")
    if not isinstance(check_id, str) or result not in (RESULT_MATCH, RESULT_NO_MATCH) or not isinstance(reason, str):
        raise malformed
    if score is not None and (not isinstance(score, int | float) or isinstance(score, bool)):
        raise malformed
    return FaceCheckResult(
        check_id=check_id,
        passed=result == RESULT_MATCH,
        score=None if score is None else float(score),
        reason=reason[:200],
    )


class DemoFaceCheckProvider:
    """The demo provider: its "face check" is a page of the portal where the person chooses the outcome.

    It signs the result it delivers exactly as a real provider does, so the portal's checks
    of the signature, the timestamp and the check run on every demo check too.
    """

    def start(self, *, check_id: str, name: str, id_type: str, id_number: str, return_url: str) -> str:
        if not is_demo_enabled():
            raise unavailable()
        # A real provider is given the identity to compare the face with; the demo has no face to compare.
        page = reverse("accounts:face_check_demo", args=[check_id])
        return f"{page}?{urlencode({'return_url': return_url})}"

    def parse_result(self, body: bytes, headers: Mapping[str, str]) -> FaceCheckResult:
        return verify_signed_result(body, headers, secret=face_check_secret())

    def signed_result(self, *, check_id: str, passed: bool) -> tuple[bytes, dict[str, str]]:
        """What the demo provider POSTs to the callback when the person chose "pass" or "fail"."""
        return signed_result(
            check_id=check_id,
            passed=passed,
            score=0.98 if passed else 0.12,
            reason="demo: passed" if passed else "demo: face does not match",
            secret=face_check_secret(),
        )


def face_check_of(*, user: AbstractBaseUser | AnonymousUser, check_id: str) -> FaceCheck:
    """The user's own check with this id; not found for anyone else's (do not confirm it exists)."""
    try:
        key = uuid.UUID(check_id)
    except (ValueError, TypeError):
        key = None
    check = None
    if key is not None and user.is_authenticated:
        check = FaceCheck.objects.filter(pk=key, user_id=user.pk).first()
    if check is None:
        raise NotFound(_("Face check not found."), code="face_check_not_found")
    return check
