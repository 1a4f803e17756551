"""Factories for test data. Each later capability adds its own here or in its app."""

from __future__ import annotations

from typing import Any

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.utils import timezone

from accounts import actions as account_actions
from accounts.models import (
    AgentAuthorisation,
    AuthorisationScope,
    Enterprise,
    RealNameLevel,
    StaffMembership,
    StaffRole,
    User,
)
from core import crypto
from datahub.identity import mask_id, normalize_identity_number
from datahub.models import ID_NUMBER_HASH_PURPOSE
from demo.registry_data import PersonSpec
from services.models import Department

PASSWORD = "correct-horse-battery"
# Base32; tests compute codes from it with allauth's own TOTP helpers.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    last_name = "张"
    first_name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.test")
    password = factory.django.Password(PASSWORD)
    privacy_notice_version = factory.LazyFunction(lambda: settings.PRIVACY_NOTICE_VERSION)


def email_user(email: str, *, password: str = PASSWORD, **fields: Any) -> User:
    """A user who signed up with ``email`` and verified it: they can log in through allauth."""
    user = UserFactory.create(username=email, email=email, password=password, **fields)
    EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


def give_identity(user: User, person: PersonSpec, *, level: RealNameLevel = RealNameLevel.BASIC) -> User:
    """Store ``person``'s identity on ``user`` as the real-name check does."""
    number = normalize_identity_number(person.id_number)
    user.full_name = person.name
    user.id_type = person.id_type
    user.id_number_hash = crypto.keyed_hash(number, purpose=ID_NUMBER_HASH_PURPOSE)
    user.id_number_encrypted = crypto.encrypt(number)
    user.id_number_masked = mask_id(number)
    user.phone = person.phone
    user.real_name_level = level
    user.real_name_verified_at = timezone.now()
    user.save()
    return user


def enroll_totp(user: User, secret: str = TOTP_SECRET) -> Authenticator:
    """An activated TOTP authenticator, stored as allauth stores it (encrypted by the MFA adapter)."""
    from allauth.mfa.utils import encrypt

    authenticator, _created = Authenticator.objects.get_or_create(
        user=user, type=Authenticator.Type.TOTP, defaults={"data": {"secret": encrypt(secret)}}
    )
    return authenticator


def staff_member(email: str, department: Department, role: StaffRole = StaffRole.CLERK, **fields: Any) -> User:
    user = email_user(email, **fields)
    StaffMembership.objects.create(user=user, department=department, role=role)
    return user


def authorise_agent(
    enterprise: Enterprise, agent: User, legal_rep: User, *, item_codes: list[str]
) -> AgentAuthorisation:
    """The legal representative authorises ``agent`` from today: for the listed items, or every item if none."""
    return account_actions.agent_authorise(
        enterprise_id=enterprise.pk,
        agent_email=agent.email,
        scope=AuthorisationScope.LISTED if item_codes else AuthorisationScope.ALL,
        item_codes=item_codes,
        valid_from=timezone.localdate(),
        valid_to=None,
        actor=legal_rep,
    )
