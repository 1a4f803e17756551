"""Reads about accounts that other apps may use."""

from __future__ import annotations

import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import CharField, JSONField, Q, QuerySet, Value
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    AgentAuthorisation,
    AuthorisationScope,
    Enterprise,
    EnterpriseEvent,
    RealNameLevel,
    SmsOutboxMessage,
    StaffMembership,
    User,
)
from core import crypto
from core.errors import NotFound
from datahub import registries
from datahub.models import PersonStatus
from datahub.registries import PersonView

ACTING_FOR_SESSION_KEY = "acting_for_enterprise_id"
GUARDIAN_PURPOSE = "监护人代办"


def staff_departments(user: AbstractBaseUser | AnonymousUser) -> list[int]:
    """The ids of the departments this user works for, in any role, smallest first."""
    if not user.is_authenticated:
        return []
    return sorted(set(StaffMembership.objects.filter(user_id=user.pk).values_list("department_id", flat=True)))


def staff_roles(user: AbstractBaseUser | AnonymousUser, department_id: int) -> list[str]:
    """The user's roles in one department (empty when not a member)."""
    if not user.is_authenticated:
        return []
    return sorted(
        StaffMembership.objects.filter(user_id=user.pk, department_id=department_id).values_list("role", flat=True)
    )


def department_members(department_id: int, *, role: str | None = None) -> list[int]:
    """The ids of the department's members (of one role when given)."""
    members = StaffMembership.objects.filter(department_id=department_id)
    if role is not None:
        members = members.filter(role=role)
    return sorted(set(members.values_list("user_id", flat=True)))


def is_staff_member(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Platform staff (is_staff) or a member of a department: people who must log in with MFA."""
    if not user.is_authenticated:
        return False
    if getattr(user, "is_staff", False):
        return True
    return StaffMembership.objects.filter(user_id=user.pk).exists()


def has_totp(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user has an activated TOTP authenticator."""
    from allauth.mfa.models import Authenticator

    if not user.is_authenticated:
        return False
    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


def needs_enrolment_code(user: AbstractBaseUser | AnonymousUser) -> bool:
    """A staff member without any authenticator yet: their first one needs an enrolment code, not the password alone."""
    from allauth.mfa.models import Authenticator

    return is_staff_member(user) and not Authenticator.objects.filter(user_id=user.pk).exists()


def is_platform_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    """A platform administrator (superuser): the Django admin's catalogue, accounts and settings are theirs."""
    return bool(user.is_authenticated and getattr(user, "is_superuser", False))


def user_for_owner(user: AbstractBaseUser | AnonymousUser) -> User:
    """The logged-in user's own row, fresh from the database."""
    if not user.is_authenticated or user.pk is None:
        raise User.DoesNotExist
    return User.objects.get(pk=user.pk)


# --- Enterprises and agents ---


def _active_authorisations(
    *, user: AbstractBaseUser | AnonymousUser, on: datetime.date
) -> QuerySet[AgentAuthorisation]:
    return AgentAuthorisation.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=on),
        agent_id=user.pk,
        revoked_at__isnull=True,
        valid_from__lte=on,
        enterprise__legal_representative__isnull=False,
    )


def authorisation_for(
    *,
    user: AbstractBaseUser | AnonymousUser,
    enterprise_id: int,
    item_code: str,
    on: datetime.date | None = None,
) -> AgentAuthorisation | None:
    """The user's active authorisation to act for the enterprise in this item (实施编码) on a day, or None.

    Active: not revoked, ``on`` (today in Asia/Shanghai by default) within its dates, and
    covering all items or listing this one.
    """
    if not user.is_authenticated:
        return None
    day = on or timezone.localdate()
    # An agent holds few authorisations per enterprise; the listed codes are checked here
    # rather than with a JSON lookup that not every database offers.
    for authorisation in _active_authorisations(user=user, on=day).filter(enterprise_id=enterprise_id).order_by("pk"):
        if authorisation.covers(item_code):
            return authorisation
    return None


def enterprises_acting_for(user: AbstractBaseUser | AnonymousUser) -> list[Enterprise]:
    """The enterprises the user may act for today: those they claimed, and those with an active authorisation."""
    if not user.is_authenticated:
        return []
    authorised = _active_authorisations(user=user, on=timezone.localdate()).values("enterprise_id")
    return list(
        Enterprise.objects.filter(Q(legal_representative_id=user.pk) | Q(pk__in=authorised)).order_by("name", "pk")
    )


def enterprise_scopes(user: AbstractBaseUser | AnonymousUser) -> dict[int, frozenset[str] | None]:
    """Enterprise id → the item codes the user may act in today (None: every item), for scoping lists.

    One query for every list of a signed-in user: the active authorisations (``_active_authorisations``, the
    one statement of what holds today) and the claims, as authorisations for every item.
    """
    if not user.is_authenticated:
        return {}
    # Unordered: the result does not depend on the order.
    authorised = (
        _active_authorisations(user=user, on=timezone.localdate())
        .order_by()
        .values_list("enterprise_id", "scope", "item_codes")
    )
    claimed = (
        Enterprise.objects.filter(legal_representative_id=user.pk)
        .order_by()
        .values_list(
            "pk", Value(AuthorisationScope.ALL, output_field=CharField()), Value(None, output_field=JSONField())
        )
    )
    scopes: dict[int, frozenset[str] | None] = {}
    for enterprise_id, scope, item_codes in authorised.union(claimed, all=True):
        if enterprise_id in scopes and scopes[enterprise_id] is None:
            continue
        if scope == AuthorisationScope.ALL:
            scopes[enterprise_id] = None
        else:
            scopes[enterprise_id] = (scopes.get(enterprise_id) or frozenset()) | frozenset(item_codes or [])
    return scopes


def can_act_for(*, user: AbstractBaseUser | AnonymousUser, enterprise_id: int, item_code: str) -> bool:
    """Whether the user may act for the enterprise in this item today; its legal representative always may."""
    if not user.is_authenticated:
        return False
    if Enterprise.objects.filter(pk=enterprise_id, legal_representative_id=user.pk).exists():
        return True
    return authorisation_for(user=user, enterprise_id=enterprise_id, item_code=item_code) is not None


def _enterprise_acting_for(user: AbstractBaseUser | AnonymousUser, enterprise_id: int) -> Enterprise | None:
    return next((enterprise for enterprise in enterprises_acting_for(user) if enterprise.pk == enterprise_id), None)


def acting_for(request: HttpRequest) -> Enterprise | None:
    """The enterprise the user chose to act for in this session, checked again now; None means themselves.

    A choice that no longer holds (authorisation revoked or expired, claim ended) is forgotten.
    """
    enterprise_id = request.session.get(ACTING_FOR_SESSION_KEY)
    if enterprise_id is None:
        return None
    enterprise = _enterprise_acting_for(request.user, int(enterprise_id)) if str(enterprise_id).isdigit() else None
    if enterprise is None:
        request.session.pop(ACTING_FOR_SESSION_KEY, None)
    return enterprise


def enterprise_for_acting(*, user: AbstractBaseUser | AnonymousUser, enterprise_id: int) -> Enterprise:
    """An enterprise the user may act for today; NotFound (404) otherwise."""
    enterprise = _enterprise_acting_for(user, enterprise_id)
    if enterprise is None:
        raise NotFound(_("Enterprise not found."), code="enterprise_not_found")
    return enterprise


def enterprise_for_representative(*, user: AbstractBaseUser | AnonymousUser, enterprise_id: int) -> Enterprise:
    """The enterprise whose claim the user holds; NotFound (404) for any other, without saying it exists."""
    enterprise = Enterprise.objects.filter(pk=enterprise_id, legal_representative_id=user.pk).first()
    if enterprise is None or not user.is_authenticated:
        raise NotFound(_("Enterprise not found."), code="enterprise_not_found")
    return enterprise


def authorisations_of(enterprise: Enterprise) -> list[AgentAuthorisation]:
    """Every authorisation of the enterprise, newest first, with agent and revoker fetched up front."""
    return list(
        AgentAuthorisation.objects.filter(enterprise=enterprise)
        .select_related("agent", "revoked_by")
        .order_by("-granted_at", "-pk")
    )


def enterprise_events(enterprise: Enterprise) -> list[EnterpriseEvent]:
    return list(EnterpriseEvent.objects.filter(enterprise=enterprise).order_by("at", "pk"))


# --- Guardians: a parent acts for a minor child ---


def household_minors(*, user: AbstractBaseUser | AnonymousUser) -> list[PersonView]:
    """The minors (under 18 today) of the adult user's household, whom the user may act for as guardian.

    Read from the population registry (logged, purpose 监护人代办); empty for an account that
    is not real-name verified, or whose holder is a minor. Recording what a parent does for a
    child belongs to the applications.
    """
    if not user.is_authenticated:
        return []
    account = User.objects.get(pk=user.pk)
    if account.real_name_level < RealNameLevel.BASIC or not account.id_number_encrypted:
        return []
    own_number = crypto.decrypt(account.id_number_encrypted)
    members = registries.household_members(
        id_type=account.id_type, id_number=own_number, actor=account, purpose=GUARDIAN_PURPOSE
    )
    today = timezone.localdate()
    own = next((member for member in members if member.id_number == own_number), None)
    if own is None or own.is_minor_on(today):
        return []
    return [member for member in members if member.id_number != own_number and member.is_minor_on(today)]


HOME_REGION_PURPOSE = "就近办事：按户籍地显示本地事项"


def household_region_code(*, user: AbstractBaseUser | AnonymousUser) -> str:
    """The division code of the verified user's registered household, or '' (not verified, not registered).

    Read from the population registry (logged, purpose 就近办事), for finding the
    services of the user's own district; the caller keeps it for the session.
    """
    if not user.is_authenticated:
        return ""
    account = User.objects.get(pk=user.pk)
    if account.real_name_level < RealNameLevel.BASIC or not account.id_number_encrypted:
        return ""
    person = registries.person_lookup(
        id_type=account.id_type,
        id_number=crypto.decrypt(account.id_number_encrypted),
        actor=account,
        purpose=HOME_REGION_PURPOSE,
    )
    if person is None or person.status != PersonStatus.NORMAL:
        return ""
    return person.household_region_code


SMS_OUTBOX_PAGE_SIZE = 50


def sms_outbox_latest() -> list[SmsOutboxMessage]:
    """The latest text messages of the demo sender, newest first: for staff only (the caller checks)."""
    return list(SmsOutboxMessage.objects.order_by("-sent_at", "-pk")[:SMS_OUTBOX_PAGE_SIZE])
