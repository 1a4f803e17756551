"""Real-name verification: the basic check online against the registry, the advanced one at a counter or by a
face-check provider."""

from __future__ import annotations

import datetime
import logging
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import face_check, selectors
from accounts.face_check import FaceCheckResult
from accounts.models import (
    FaceCheck,
    RealNameLevel,
    User,
)
from core import crypto, limits
from core.errors import Conflict, DomainError, NotFound, PermissionDenied, TooManyAttempts
from datahub import registries
from datahub.identity import (
    mask_id,
    normalize_identity_number,
    normalize_phone,
    validate_identity_number,
)
from datahub.models import ID_NUMBER_HASH_PURPOSE

logger = logging.getLogger(__name__)

REAL_NAME_BASIC_PURPOSE = "实名认证（初级）"


def user_verify_real_name(
    *, user_id: int, full_name: str, id_type: str, id_number: str, phone: str, actor: AbstractBaseUser, address: str
) -> User:
    """初级实名: the population registry confirms this name, document and phone; the account reaches level 2.

    Refused, changing nothing but the registry's access log, when the document is malformed,
    the registry does not match, the document already belongs to another account, or the
    account is already verified; and before the registry is asked, when the account or the
    client address (``address``) has used its attempts (each one a registry read: without a
    limit, a way to test names against identity numbers).
    """
    full_name = (full_name or "").strip()
    number = normalize_identity_number(id_number)
    phone = normalize_phone(phone)
    if not full_name:
        raise DomainError(
            _("Please enter your name."),
            code="full_name_required",
            fields={"full_name": [_("Please enter your name.")]},
        )
    try:
        validate_identity_number(id_type, number)
    except ValidationError as error:
        field = "id_type" if error.code == "id_type" else "id_number"
        raise DomainError(error.messages[0], code=error.code or "id_number", fields={field: error.messages}) from None
    if len(phone) != 11 or not phone.startswith("1"):
        message = _("A mobile phone number has 11 digits and starts with 1.")
        raise DomainError(message, code="phone", fields={"phone": [message]})

    number_hash = crypto.keyed_hash(number, purpose=ID_NUMBER_HASH_PURPOSE)
    # The registry read is logged whatever the outcome, so it runs in its own transaction
    # and a refusal below does not undo the log row.
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        if user.real_name_level >= RealNameLevel.BASIC:
            raise Conflict(_("This account is already real-name verified."), code="already_verified")
    _count_real_name_attempt(user_id=user_id, address=address)
    matches = registries.person_verify(
        name=full_name, id_type=id_type, id_number=number, phone=phone, actor=actor, purpose=REAL_NAME_BASIC_PURPOSE
    )
    logger.info(
        "real-name attempt by user %s from %s: %s",
        user_id,
        address,
        "registry confirms" if matches else "registry does not confirm",
        extra={"user_id": user_id, "client": address, "outcome": "match" if matches else "mismatch"},
    )
    if not matches:
        raise DomainError(
            _(
                "The population registry does not confirm this name, document number and phone number. "
                "Please check them and try again."
            ),
            code="registry_mismatch",
        )
    return _store_verified_identity(
        user_id=user_id, full_name=full_name, id_type=id_type, number=number, number_hash=number_hash, phone=phone
    )


def _count_real_name_attempt(*, user_id: int, address: str) -> None:
    """Count one registry check for the account and for the address; refuse (and log) past either limit."""
    window = settings.REAL_NAME_ATTEMPT_WINDOW_SECONDS
    by_account, _unused = limits.count(f"real-name:user:{user_id}", window=window)
    by_address, _unused = limits.count(f"real-name:address:{address}", window=window)
    over = [
        counted
        for counted, limit in (
            (by_account, settings.REAL_NAME_ATTEMPTS_PER_ACCOUNT),
            (by_address, settings.REAL_NAME_ATTEMPTS_PER_ADDRESS),
        )
        if counted.value > limit
    ]
    if not over:
        return
    wait = max(int(counted.seconds_left) + 1 for counted in over)
    logger.warning(
        "real-name attempt by user %s from %s refused: too many attempts (%s by the account, %s from the address)",
        user_id,
        address,
        by_account.value,
        by_address.value,
        extra={"user_id": user_id, "client": address, "outcome": "limited"},
    )
    raise TooManyAttempts(
        _(
            "Too many verification attempts. For your security, please wait %(minutes)d minutes and try again, "
            "or verify at a service counter with your identity document."
        )
        % {"minutes": max(1, -(-wait // 60))},
        retry_after=wait,
    )


def _store_verified_identity(
    *, user_id: int, full_name: str, id_type: str, number: str, number_hash: str, phone: str
) -> User:
    taken = Conflict(
        _("This identity document is already linked to another account. One document has one account."),
        code="document_taken",
        fields={"id_number": [_("This identity document is already linked to another account.")]},
    )
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=user_id)
            if user.real_name_level >= RealNameLevel.BASIC:
                raise Conflict(_("This account is already real-name verified."), code="already_verified")
            hashes = crypto.keyed_hashes(number, purpose=ID_NUMBER_HASH_PURPOSE)
            if User.objects.select_for_update().filter(id_number_hash__in=hashes).exclude(pk=user_id).exists():
                raise taken
            user.full_name = full_name
            user.id_type = id_type
            user.id_number_hash = number_hash
            user.id_number_encrypted = crypto.encrypt(number)
            user.id_number_masked = mask_id(number)
            if user.phone != phone and not user.phone_verified:
                # The registry's number is not proven by an SMS code: it does not log in until verified.
                user.phone = phone
                user.phone_verified = False
            # A phone the user proved by SMS stays theirs: the registry's number only served the check.
            user.real_name_level = RealNameLevel.BASIC
            user.real_name_verified_at = timezone.now()
            user.save(
                update_fields=[
                    "full_name",
                    "id_type",
                    "id_number_hash",
                    "id_number_encrypted",
                    "id_number_masked",
                    "phone",
                    "phone_verified",
                    "real_name_level",
                    "real_name_verified_at",
                ]
            )
    except IntegrityError:
        # Two accounts raced for the same document: the unique constraint decided.
        raise taken from None
    return user


def user_confirm_at_counter(*, email: str, id_type: str, id_number: str, clerk: User) -> User:
    """高级实名: a clerk has seen the person and their identity document at the counter.

    The document shown must be the one the account was verified with at level 2;
    the clerk cannot confirm their own account. Nothing changes on a refusal.
    """
    if not selectors.is_staff_member(clerk):
        raise PermissionDenied(_("Only staff at a service counter can confirm identities."), code="not_staff")
    number = normalize_identity_number(id_number)
    try:
        validate_identity_number(id_type, number)
    except ValidationError as error:
        raise DomainError(error.messages[0], code="id_number", fields={"id_number": error.messages}) from None
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email__iexact=(email or "").strip()).first()
        if user is None:
            message = _("There is no account with this e-mail address.")
            raise NotFound(message, code="no_account", fields={"email": [message]})
        if user.pk == clerk.pk:
            raise PermissionDenied(_("A clerk cannot confirm their own account."), code="own_account")
        if user.real_name_level >= RealNameLevel.ADVANCED:
            raise Conflict(_("This account already has advanced real-name verification."), code="already_advanced")
        if user.real_name_level < RealNameLevel.BASIC:
            raise Conflict(
                _("The account must first pass the basic real-name check online (/me/verify/)."), code="not_basic"
            )
        hashes = crypto.keyed_hashes(number, purpose=ID_NUMBER_HASH_PURPOSE)
        if user.id_type != id_type or user.id_number_hash not in hashes:
            message = _("The document shown is not the one this account was verified with.")
            raise DomainError(message, code="document_mismatch", fields={"id_number": [message]})
        user.real_name_level = RealNameLevel.ADVANCED
        user.real_name_confirmed_by = clerk
        user.real_name_verified_at = timezone.now()
        user.save(update_fields=["real_name_level", "real_name_confirmed_by", "real_name_verified_at"])
    logger.info("advanced real-name confirmed at the counter", extra={"user_id": user.pk, "clerk_id": clerk.pk})
    return user


# --- 高级实名 by a face-check provider ---

# Each check costs a provider call, and many failed faces in a row are someone trying: a few an hour is enough.
FACE_CHECKS_PER_HOUR = 5


def face_check_start(*, user: User, return_url: str) -> tuple[FaceCheck, str]:
    """Open a face check of a level-2 account with the configured provider; return it and the provider's URL.

    The provider is given the name and document the account was verified with, and sends the
    person back to ``return_url`` with ``check=<id>`` added. Refused, starting nothing, below or
    above level 2 and after ``FACE_CHECKS_PER_HOUR`` checks in the last hour.
    """
    now = timezone.now()
    with transaction.atomic():
        # The row lock makes concurrent starts of one account count each other.
        account = User.objects.select_for_update().get(pk=user.pk)
        if account.real_name_level >= RealNameLevel.ADVANCED:
            raise Conflict(_("Your account already has advanced real-name verification."), code="already_advanced")
        if account.real_name_level < RealNameLevel.BASIC:
            raise Conflict(
                _("Verify your real name online first (basic real-name); the face check comes after it."),
                code="not_basic",
            )
        FaceCheck.objects.filter(
            user=account, status=FaceCheck.Status.PENDING, created_at__lt=now - FaceCheck.LIFETIME
        ).update(status=FaceCheck.Status.EXPIRED, finished_at=now)
        started = FaceCheck.objects.filter(user=account, created_at__gte=now - datetime.timedelta(hours=1)).count()
        if started >= FACE_CHECKS_PER_HOUR:
            raise DomainError(
                _("You have started too many face checks in the last hour. Please try again later."),
                code="too_many_face_checks",
            )
        check = FaceCheck.objects.create(user=account, provider=face_check.face_check_provider_path())
    separator = "&" if "?" in return_url else "?"
    try:
        # Outside the transaction: no row stays locked while the provider answers.
        url = face_check.face_check_provider().start(
            check_id=str(check.pk),
            name=account.full_name,
            id_type=account.id_type,
            id_number=crypto.decrypt(account.id_number_encrypted),
            return_url=f"{return_url}{separator}{urlencode({'check': str(check.pk)})}",
        )
    except Exception as error:
        FaceCheck.objects.filter(pk=check.pk, status=FaceCheck.Status.PENDING).update(
            status=FaceCheck.Status.FAILED, finished_at=timezone.now(), reason="the provider did not start the check"
        )
        if isinstance(error, DomainError):
            raise
        logger.exception("face check %s: the provider did not start it", check.pk)
        raise face_check.unavailable() from error
    logger.info("face check started", extra={"user_id": account.pk, "face_check_id": str(check.pk)})
    return check, url


def face_check_complete(*, result: FaceCheckResult) -> FaceCheck:
    """Take a provider's verified result: a pass raises a level-2 account to level 3, a fail changes nothing else.

    Single use and idempotent: a result for a check that is no longer pending changes nothing
    (the same outcome again is a redelivery and is answered as such; a different one is refused).
    A result later than ``FaceCheck.LIFETIME`` expires the check instead.
    """
    not_found = NotFound(_("Face check not found."), code="face_check_not_found")
    try:
        check_key = uuid.UUID(result.check_id)
    except ValueError:
        raise not_found from None
    user_id = FaceCheck.objects.filter(pk=check_key).values_list("user_id", flat=True).first()
    if user_id is None:
        raise not_found
    outcome = FaceCheck.Status.PASSED if result.passed else FaceCheck.Status.FAILED
    with transaction.atomic():
        # The account first, then the check: the order face_check_start takes them in.
        user = User.objects.select_for_update().get(pk=user_id)
        check = FaceCheck.objects.select_for_update().get(pk=check_key)
        if check.status != FaceCheck.Status.PENDING:
            if check.status in (outcome, FaceCheck.Status.EXPIRED):
                return check
            raise Conflict(_("This face check already has a different result."), code="face_check_completed")
        now = timezone.now()
        check.finished_at = now
        check.score = result.score
        check.reason = result.reason
        if check.is_overdue(now):
            check.status = FaceCheck.Status.EXPIRED
            check.save(update_fields=["status", "finished_at", "score", "reason"])
            logger.info("face check %s: result came too late; expired", check.pk)
            return check
        check.status = outcome
        check.save(update_fields=["status", "finished_at", "score", "reason"])
        # Only a level-2 account moves: a level-1 one has no verified identity the face was compared with.
        if outcome == FaceCheck.Status.PASSED and user.real_name_level == RealNameLevel.BASIC:
            user.real_name_level = RealNameLevel.ADVANCED
            user.real_name_verified_at = now
            user.save(update_fields=["real_name_level", "real_name_verified_at"])
    logger.info(
        "face check completed",
        extra={"user_id": user.pk, "face_check_id": str(check.pk), "status": check.status, "provider": check.provider},
    )
    return check


# --- the next step up ---------------------------------------------------------

BASIC_STEP = "basic"  # 初级实名: the registry's check of name, document and phone (/me/verify/)
FACE_CHECK_STEP = "face_check"  # 高级实名: a face check (/me/verify/face/)


def next_step(user: AbstractBaseUser) -> str | None:
    """What raises this user's real-name level next: the registry check, the face check, or nothing (level 3)."""
    level = getattr(user, "real_name_level", RealNameLevel.UNVERIFIED)
    if level < RealNameLevel.BASIC:
        return BASIC_STEP
    if level < RealNameLevel.ADVANCED:
        return FACE_CHECK_STEP
    return None


def next_step_path(user: AbstractBaseUser) -> str:
    """The page of that step (the face check's at the highest level, where nothing is left to raise)."""
    return reverse("accounts:verify") if next_step(user) == BASIC_STEP else reverse("accounts:face_check")
