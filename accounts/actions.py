"""Writes of enterprises and their agents, staff memberships, privacy consent and sign-ups undone.

The other writes to accounts have modules of their own: ``real_name``, ``phone_numbers`` and ``enrolment``.
"""

from __future__ import annotations

import datetime
import logging
import re
import unicodedata
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    AgentAuthorisation,
    AuthorisationScope,
    Enterprise,
    EnterpriseAction,
    EnterpriseEvent,
    RealNameLevel,
    StaffMembership,
    User,
)
from core import crypto
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.notices import notify
from core.registry import Hooks
from datahub import registries
from datahub.identity import (
    validate_uscc,
)

logger = logging.getLogger(__name__)

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


# --- Sign-ups undone ---


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
