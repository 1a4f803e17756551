"""Every write to accounts: named <entity>_<verb>, keyword-only, atomic."""

from __future__ import annotations

import datetime
import logging
import re
import secrets
import unicodedata
import uuid
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import face_check, selectors
from accounts.face_check import FaceCheckResult
from accounts.models import (
    AgentAuthorisation,
    AuthorisationScope,
    Enterprise,
    EnterpriseAction,
    EnterpriseEvent,
    FaceCheck,
    RealNameLevel,
    StaffEnrolmentCode,
    StaffMembership,
    User,
)
from core import crypto, limits
from core.errors import Conflict, DomainError, NotFound, PermissionDenied, TooManyAttempts
from core.notices import notify
from core.registry import Hooks
from datahub import registries
from datahub.identity import (
    mask_id,
    mask_phone,
    normalize_identity_number,
    normalize_phone,
    validate_identity_number,
    validate_uscc,
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
            if user.phone != phone:
                # The registry's number is not proven by an SMS code: it does not log in until verified.
                user.phone = phone
                user.phone_verified = False
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


# --- Enterprises (法人) and their agents (经办人) ---

ENTERPRISE_CLAIM_PURPOSE = "法人认领"
ENTERPRISE_COMPARE_PURPOSE = "法人变更核对"
ENTERPRISE_COMPARE_ACTOR_LABEL = "beat:enterprise-compare"
REPRESENTATIVE_CHANGED_REASON = "法定代表人变更"
_ITEM_CODE = re.compile(r"^[0-9A-Z]{31}$")


def _record_enterprise_event(
    enterprise: Enterprise,
    *,
    action: EnterpriseAction,
    actor: AbstractBaseUser | None,
    details: dict[str, Any],
    actor_label: str = "",
) -> EnterpriseEvent:
    return EnterpriseEvent.objects.create(
        enterprise=enterprise,
        actor_id=actor.pk if actor is not None else None,
        actor_label=actor_label,
        action=action,
        details=details,
        at=timezone.now(),
    )


def _require_verified(user: User, message: str) -> None:
    if user.real_name_level < RealNameLevel.BASIC or not user.id_number_encrypted or not user.id_type:
        raise PermissionDenied(message, code="real_name_required")


def _normalize_uscc(uscc: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", uscc or "")).upper()


def enterprise_claim(*, uscc: str, actor: AbstractBaseUser) -> Enterprise:
    """法人认领: the legal-person registry confirms the actor as the legal representative; the actor holds the claim.

    Refused, changing nothing but the registry's access log, when the actor is not real-name
    verified (level 2), the code is malformed, the registry names someone else, or the actor
    already holds the claim. A claim held by a former representative ends, with its authorisations.
    """
    user = User.objects.get(pk=actor.pk)
    _require_verified(user, _("Only a real-name verified account can claim an enterprise. Please verify first."))
    uscc = _normalize_uscc(uscc)
    try:
        validate_uscc(uscc)
    except ValidationError as error:
        raise DomainError(error.messages[0], code=error.code or "uscc", fields={"uscc": error.messages}) from None
    # The registry reads are logged whatever the outcome: each runs in its own transaction.
    represented = registries.legal_person_is_represented_by(
        uscc=uscc,
        id_type=user.id_type,
        id_number=crypto.decrypt(user.id_number_encrypted),
        actor=user,
        purpose=ENTERPRISE_CLAIM_PURPOSE,
    )
    not_listed = _("The legal person registry does not list you as the legal representative of this enterprise.")
    if not represented:
        raise DomainError(not_listed, code="not_legal_representative", fields={"uscc": [not_listed]})
    record = registries.legal_person_lookup(uscc=uscc, actor=user, purpose=ENTERPRISE_CLAIM_PURPOSE)
    if record is None:  # removed from the registry between the two reads
        raise DomainError(not_listed, code="not_legal_representative", fields={"uscc": [not_listed]})
    try:
        with transaction.atomic():
            enterprise = Enterprise.objects.select_for_update().filter(uscc=uscc).first()
            now = timezone.now()
            if enterprise is None:
                enterprise = Enterprise.objects.create(uscc=uscc, name=record.name, kind=record.kind)
            elif enterprise.legal_representative_id == user.pk:
                already = _("You have already claimed this enterprise.")
                raise Conflict(already, code="already_claimed", fields={"uscc": [already]})
            elif enterprise.legal_representative_id is not None:
                # The registry now names the actor: whoever held the claim before no longer represents it.
                _end_claim(enterprise, actor=user, actor_label="")
            enterprise.name = record.name
            enterprise.kind = record.kind
            enterprise.legal_representative = user
            enterprise.claimed_at = now
            enterprise.registry_checked_at = now
            enterprise.save(update_fields=["name", "kind", "legal_representative", "claimed_at", "registry_checked_at"])
            _record_enterprise_event(
                enterprise, action=EnterpriseAction.CLAIMED, actor=user, details={"legal_representative_id": user.pk}
            )
    except IntegrityError:
        # Two claims of a new enterprise raced: the unique code decided; the other may try again.
        raise Conflict(
            _("This enterprise was claimed at the same moment. Please try again."), code="claim_race"
        ) from None
    return enterprise


def _representative_enterprise(*, enterprise_id: int, actor: AbstractBaseUser) -> Enterprise:
    """The enterprise locked for update, when the actor holds its claim; otherwise not found (do not confirm it)."""
    enterprise = (
        Enterprise.objects.select_for_update().filter(pk=enterprise_id, legal_representative_id=actor.pk).first()
    )
    if enterprise is None:
        raise NotFound(_("Enterprise not found."), code="enterprise_not_found")
    return enterprise


def _clean_item_codes(scope: str, item_codes: list[str]) -> list[str]:
    if scope == AuthorisationScope.ALL:
        return []
    codes = sorted({_normalize_uscc(code) for code in item_codes if code and code.strip()})
    if not codes:
        message = _("List at least one implementation code, or authorise all items.")
        raise DomainError(message, code="item_codes_required", fields={"item_codes": [message]})
    wrong = [code for code in codes if not _ITEM_CODE.match(code)]
    if wrong:
        message = _("An implementation code has 31 digits and capital letters: %(codes)s") % {"codes": ", ".join(wrong)}
        raise DomainError(message, code="item_code_shape", fields={"item_codes": [message]})
    return codes


@transaction.atomic
def agent_authorise(
    *,
    enterprise_id: int,
    agent_email: str,
    scope: str,
    item_codes: list[str],
    valid_from: datetime.date,
    valid_to: datetime.date | None,
    actor: AbstractBaseUser,
) -> AgentAuthorisation:
    """The legal representative lets a real-name verified account act for the enterprise (授权经办人).

    An agent holds one current authorisation per enterprise: to change it, revoke it and grant anew.
    """
    enterprise = _representative_enterprise(enterprise_id=enterprise_id, actor=actor)
    if scope not in AuthorisationScope.values:
        message = _("Choose all items or listed items.")
        raise DomainError(message, code="scope", fields={"scope": [message]})
    codes = _clean_item_codes(scope, item_codes)
    if valid_to is not None and valid_to < valid_from:
        message = _("The end date cannot be before the start date.")
        raise DomainError(message, code="valid_to", fields={"valid_to": [message]})
    if valid_to is not None and valid_to < timezone.localdate():
        message = _("The end date has already passed.")
        raise DomainError(message, code="valid_to", fields={"valid_to": [message]})
    agent = User.objects.filter(email__iexact=(agent_email or "").strip(), is_active=True).first()
    if agent is None or agent.real_name_level < RealNameLevel.BASIC:
        message = _(
            "There is no real-name verified account with this e-mail address. The agent must sign up and verify first."
        )
        raise DomainError(message, code="agent_unknown", fields={"agent_email": [message]})
    if agent.pk == actor.pk:
        message = _("As the legal representative you can already act for this enterprise.")
        raise DomainError(message, code="agent_is_representative", fields={"agent_email": [message]})
    today = timezone.localdate()
    current = AgentAuthorisation.objects.select_for_update().filter(
        enterprise=enterprise, agent=agent, revoked_at__isnull=True
    )
    if any(existing.valid_to is None or existing.valid_to >= today for existing in current):
        message = _("This agent already holds an authorisation for this enterprise. Revoke it first to change it.")
        raise Conflict(message, code="already_authorised", fields={"agent_email": [message]})
    authorisation = AgentAuthorisation.objects.create(
        enterprise=enterprise,
        agent=agent,
        scope=scope,
        item_codes=codes,
        valid_from=valid_from,
        valid_to=valid_to,
        granted_by_id=actor.pk,
        granted_at=timezone.now(),
    )
    _record_enterprise_event(
        enterprise,
        action=EnterpriseAction.AUTHORISED,
        actor=actor,
        details={
            "authorisation_id": authorisation.pk,
            "agent_id": agent.pk,
            "scope": scope,
            "item_codes": codes,
            "valid_from": valid_from.isoformat(),
            "valid_to": valid_to.isoformat() if valid_to else None,
        },
    )
    return authorisation


@transaction.atomic
def agent_revoke(*, authorisation_id: int, actor: AbstractBaseUser, reason: str = "") -> AgentAuthorisation:
    """The legal representative withdraws an agent's authorisation; it stays on record as revoked."""
    authorisation = (
        AgentAuthorisation.objects.select_for_update()
        .filter(pk=authorisation_id, enterprise__legal_representative_id=actor.pk)
        .first()
    )
    if authorisation is None:
        raise NotFound(_("Authorisation not found."), code="authorisation_not_found")
    if authorisation.revoked_at is not None:
        raise Conflict(_("This authorisation has already been revoked."), code="already_revoked")
    authorisation.revoked_at = timezone.now()
    authorisation.revoked_by_id = actor.pk
    authorisation.revoke_reason = (reason or "").strip()[:200]
    authorisation.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    _record_enterprise_event(
        authorisation.enterprise,
        action=EnterpriseAction.REVOKED,
        actor=actor,
        details={
            "authorisation_id": authorisation.pk,
            "agent_id": authorisation.agent_id,
            "reason": authorisation.revoke_reason,
        },
    )
    return authorisation


def _end_claim(enterprise: Enterprise, *, actor: AbstractBaseUser | None, actor_label: str) -> list[int]:
    """End the current claim and the authorisations its holder granted; return the ids of the people to tell.

    The caller holds the enterprise's row lock.
    """
    former_id = enterprise.legal_representative_id
    now = timezone.now()
    today = timezone.localdate()
    enterprise.legal_representative = None
    enterprise.claimed_at = None
    enterprise.registry_checked_at = now
    enterprise.save(update_fields=["legal_representative", "claimed_at", "registry_checked_at"])
    _record_enterprise_event(
        enterprise,
        action=EnterpriseAction.CLAIM_ENDED,
        actor=actor,
        actor_label=actor_label,
        details={"former_legal_representative_id": former_id, "reason": REPRESENTATIVE_CHANGED_REASON},
    )
    told = [former_id] if former_id is not None else []
    granted = AgentAuthorisation.objects.select_for_update().filter(
        enterprise=enterprise, granted_by_id=former_id, revoked_at__isnull=True
    )
    for authorisation in granted.order_by("pk"):
        if authorisation.valid_to is not None and authorisation.valid_to < today:
            continue  # already over by its own dates
        authorisation.revoked_at = now
        authorisation.revoke_reason = REPRESENTATIVE_CHANGED_REASON
        authorisation.save(update_fields=["revoked_at", "revoke_reason"])
        _record_enterprise_event(
            enterprise,
            action=EnterpriseAction.AUTHORISATION_ENDED,
            actor=actor,
            actor_label=actor_label,
            details={
                "authorisation_id": authorisation.pk,
                "agent_id": authorisation.agent_id,
                "reason": REPRESENTATIVE_CHANGED_REASON,
            },
        )
        told.append(authorisation.agent_id)
    name = enterprise.name
    if former_id is not None:
        notify(former_id, "legal_representative_changed", {"enterprise_name": name, "url": reverse("accounts:me")})
    for agent_id in sorted(set(told) - {former_id}):
        notify(agent_id, "authorisation_ended", {"enterprise_name": name})
    logger.info(
        "enterprise %s: legal representative changed in the registry; claim of user %s ended; told: %s",
        enterprise.pk,
        former_id,
        told,
    )
    return told


def enterprise_compare_with_registry(*, enterprise_id: int) -> bool:
    """法人变更核对: when the registry no longer names the claimer, end the claim and its authorisations.

    Returns whether the claim ended. Idempotent: an unclaimed enterprise, or one whose claimer
    the registry still names, only has its check time updated.
    """
    enterprise = Enterprise.objects.select_related("legal_representative").get(pk=enterprise_id)
    claimer = enterprise.legal_representative
    if claimer is None:
        return False
    still_represents = bool(claimer.id_number_encrypted) and registries.legal_person_is_represented_by(
        uscc=enterprise.uscc,
        id_type=claimer.id_type,
        id_number=crypto.decrypt(claimer.id_number_encrypted),
        actor=None,
        actor_label=ENTERPRISE_COMPARE_ACTOR_LABEL,
        purpose=ENTERPRISE_COMPARE_PURPOSE,
    )
    with transaction.atomic():
        enterprise = Enterprise.objects.select_for_update().get(pk=enterprise_id)
        if enterprise.legal_representative_id != claimer.pk:
            return False  # the claim changed while the registry was read: the next sweep looks again
        if still_represents:
            enterprise.registry_checked_at = timezone.now()
            enterprise.save(update_fields=["registry_checked_at"])
            return False
        _end_claim(enterprise, actor=None, actor_label=ENTERPRISE_COMPARE_ACTOR_LABEL)
    return True


def enterprises_compare_all() -> int:
    """Compare every claimed enterprise with the registry; return how many claims ended."""
    ended = 0
    ids = list(
        Enterprise.objects.filter(legal_representative__isnull=False).order_by("pk").values_list("pk", flat=True)
    )
    for enterprise_id in ids:
        ended += enterprise_compare_with_registry(enterprise_id=enterprise_id)
    return ended


# --- Staff memberships ---

# Called with (user_id, department_id) in the same transaction when someone leaves a department;
# apps that give staff work (approvals: claimed tasks) connect here at start-up.
staff_left_hooks: Hooks[[int, int]] = Hooks("accounts.staff_left")


def staff_left(*, user_id: int, department_id: int) -> None:
    """Tell every connected app that the user no longer works for the department (caller's transaction)."""
    staff_left_hooks.call(user_id, department_id)


@transaction.atomic
def staff_membership_end(*, membership_id: int) -> None:
    """Remove a member from a department: their access ends at once, and the work they held returns."""
    membership = StaffMembership.objects.select_for_update().filter(pk=membership_id).first()
    if membership is None:
        return
    user_id, department_id = membership.user_id, membership.department_id
    membership.delete()
    if not StaffMembership.objects.filter(user_id=user_id, department_id=department_id).exists():
        staff_left(user_id=user_id, department_id=department_id)


def user_consent_privacy(*, user_id: int) -> None:
    """Record that the user agreed to the current privacy notice, and when."""
    User.objects.filter(pk=user_id).update(
        privacy_notice_version=settings.PRIVACY_NOTICE_VERSION, privacy_consented_at=timezone.now()
    )


# --- Mobile phone numbers (a second way to log in) ---

PHONE_TAKEN_OVER_SUBJECT = "[一网通办] 您账号绑定的手机号已被他人验证并绑定"
PHONE_TAKEN_OVER_BODY = (
    "您好：\n\n"
    "您账号绑定的手机号已被他人验证并绑定（手机号 %(phone)s）。"
    "号码可能已被运营商回收并转给他人，因此它已从您的账号中移除，不能再用于登录。\n\n"
    "您仍可以用电子邮箱和密码登录，并在账号中绑定新的手机号。\n\n"
    "一网通办"
)


def clean_mainland_phone(phone: str) -> str:
    """The 11-digit mainland mobile number, or a DomainError with a message for the form."""
    number = normalize_phone(phone)
    if len(number) != 11 or not number.startswith("1"):
        message = _("A mobile phone number has 11 digits and starts with 1.")
        raise DomainError(message, code="phone", fields={"phone": [message]})
    return number


@transaction.atomic
def user_phone_set(*, user_id: int, phone: str) -> User:
    """Attach an unverified number to the account: it logs nobody in until its SMS code is entered."""
    number = clean_mainland_phone(phone)
    user = User.objects.select_for_update().get(pk=user_id)
    user.phone = number
    user.phone_verified = False
    user.save(update_fields=["phone", "phone_verified"])
    return user


def user_phone_verify(*, user_id: int, phone: str) -> User:
    """The account's holder proved they hold the number (an SMS code): it becomes the account's verified number.

    One number, one account: an account that had verified the same number before (a number the
    operator has since given to someone else) loses it, and is told by e-mail.
    """
    number = clean_mainland_phone(phone)
    with transaction.atomic():
        previous_holders = list(
            User.objects.select_for_update()
            .filter(phone=number, phone_verified=True)
            .exclude(pk=user_id)
            .order_by("pk")
        )
        for holder in previous_holders:
            holder.phone = ""
            holder.phone_verified = False
            holder.save(update_fields=["phone", "phone_verified"])
        user = User.objects.select_for_update().get(pk=user_id)
        user.phone = number
        user.phone_verified = True
        user.save(update_fields=["phone", "phone_verified"])
        for holder in previous_holders:
            logger.info(
                "Phone %s moved from user %s to user %s; the former holder is told by e-mail",
                mask_phone(number),
                holder.pk,
                user.pk,
            )
            transaction.on_commit(partial(_mail_phone_taken_over, email=holder.email, phone=number))
    return user


def _mail_phone_taken_over(*, email: str, phone: str) -> None:
    if not email:
        return
    try:
        send_mail(PHONE_TAKEN_OVER_SUBJECT, PHONE_TAKEN_OVER_BODY % {"phone": mask_phone(phone)}, None, [email])
    except Exception:  # the number has moved already; a mail server down must not fail the new owner's request
        logger.exception("Could not e-mail the former holder of phone %s", mask_phone(phone))


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


# --- Sign-ups undone, and the one-time codes staff need for their first authenticator ---


@transaction.atomic
def user_delete_unfinished_signup(*, user_id: int) -> bool:
    """Delete an account made by a sign-up that could not go on (its SMS code could not be sent).

    Only an account nobody has logged in to and whose e-mail address is unverified: never one in use.
    """
    deleted, _rows = (
        User.objects.filter(pk=user_id, last_login__isnull=True).exclude(emailaddress__verified=True).delete()
    )
    if deleted:
        logger.info("unfinished sign-up deleted", extra={"user_id": user_id})
    return bool(deleted)


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
