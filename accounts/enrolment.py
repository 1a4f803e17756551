"""Staff enrolment codes: the one-time codes a staff member needs to add their first authenticator."""

from __future__ import annotations

import datetime
import logging
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import selectors
from accounts.models import (
    StaffEnrolmentCode,
    User,
)
from core import crypto
from core.errors import DomainError

logger = logging.getLogger(__name__)

ENROLMENT_CODE_PURPOSE = "accounts.staff-enrolment-code"
ENROLMENT_CODE_VALIDITY = datetime.timedelta(hours=72)
_ENROLMENT_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out or typed from paper


def _normalize_enrolment_code(code: str) -> str:
    return "".join(character for character in code.upper() if character.isalnum())


@transaction.atomic
def staff_enrolment_code_issue(*, user_id: int, actor: User | None) -> str:
    """Issue a one-time TOTP enrolment code for a staff member; return it in clear (shown once, stored hashed).

    Codes issued before and not yet used stop working: one valid code per staff member at a time.
    ``actor`` is the platform admin in the Django admin, or None from the command line (manage.py).
    """
    user = User.objects.select_for_update().get(pk=user_id)
    if not selectors.is_staff_member(user):
        raise DomainError(_("Enrolment codes are for staff members only."), code="enrolment_code_not_staff")
    now = timezone.now()
    StaffEnrolmentCode.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
    raw = "".join(secrets.choice(_ENROLMENT_CODE_ALPHABET) for _position in range(12))
    StaffEnrolmentCode.objects.create(
        user=user,
        code_hash=crypto.keyed_hash(raw, purpose=ENROLMENT_CODE_PURPOSE),
        issued_by=actor,
        issued_at=now,
        expires_at=now + ENROLMENT_CODE_VALIDITY,
    )
    logger.warning(
        "staff enrolment code issued",
        extra={"user_id": user.pk, "actor_id": actor.pk if actor else None, "expires_at": now.isoformat()},
    )
    return "-".join(raw[start : start + 4] for start in range(0, len(raw), 4))


def staff_enrolment_code_use(*, user_id: int, code: str) -> None:
    """Spend ``code`` for ``user_id``'s first authenticator: a DomainError unless it is theirs, unused and in time.

    One conditional update claims it, so two requests can never both spend one code.
    """
    hashes = crypto.keyed_hashes(_normalize_enrolment_code(code), purpose=ENROLMENT_CODE_PURPOSE)
    now = timezone.now()
    spent = StaffEnrolmentCode.objects.filter(
        user_id=user_id, code_hash__in=hashes, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if spent != 1:
        logger.warning("staff enrolment code refused", extra={"user_id": user_id})
        message = _("This enrolment code is not valid: it is wrong, used or expired. Ask a platform administrator.")
        raise DomainError(message, code="enrolment_code_invalid", fields={"enrolment_code": [message]})
    logger.warning("staff enrolment code used", extra={"user_id": user_id})
