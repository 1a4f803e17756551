"""The demo accounts that ``seed_demo`` creates and ``make run`` prints.

Seven named accounts (a verified citizen, two unmarried citizens, a newcomer, an enterprise's legal
representative and agent, the platform admin) and, for every department of the
demo catalogue, a clerk and a supervisor. All share one published password;
every staff account has the same TOTP secret already enrolled, so that a demo
can log in with any authenticator app (or ``oathtool --totp -b``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
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
from demo.registry_data import (
    CHEN_HAOYU,
    LI_JIANGUO,
    LI_NA,
    WANG_XIAOMING,
    YIWANG_TECHNOLOGY,
    ZHAO_LI,
    PersonSpec,
)
from services.models import Department

DEMO_PASSWORD = "demo-pass-2026"
# Base32, as authenticator apps take it.
DEMO_TOTP_SECRET = "ZWFWDEMOZWFWDEMOZWFWDEMOZWFWDEMO"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    level: RealNameLevel = RealNameLevel.UNVERIFIED
    person: PersonSpec | None = None
    is_staff: bool = False
    is_superuser: bool = False


DEMO_ACCOUNTS = (
    DemoAccount("citizen@example.com", "citizen 自然人 (高级实名)", RealNameLevel.ADVANCED, WANG_XIAOMING),
    # The two unmarried people of the 结婚登记 journey (README: the demo's two-party applications).
    DemoAccount("citizen2@example.com", "citizen 自然人 (初级实名, 未婚)", RealNameLevel.BASIC, ZHAO_LI),
    DemoAccount("citizen3@example.com", "citizen 自然人 (初级实名, 未婚)", RealNameLevel.BASIC, CHEN_HAOYU),
    DemoAccount("newcomer@example.com", "new citizen 自然人 (非实名)"),
    DemoAccount("legalrep@example.com", "legal representative 法定代表人 (初级实名)", RealNameLevel.BASIC, LI_JIANGUO),
    DemoAccount("agent@example.com", "enterprise agent 法人经办人 (初级实名)", RealNameLevel.BASIC, LI_NA),
    DemoAccount("admin@example.com", "platform admin 平台管理员", is_staff=True, is_superuser=True),
)


def staff_email(role: StaffRole, uscc: str) -> str:
    return f"{role.value}-{uscc.lower()}@example.com"


def _new_user(email: str, password_hash: str, *, account: DemoAccount | None = None) -> User:
    # Demo people have agreed to the current privacy notice, so trying the portal starts at once.
    user = User(
        email=email,
        username=email,
        password=password_hash,
        privacy_notice_version=settings.PRIVACY_NOTICE_VERSION,
        privacy_consented_at=timezone.now(),
    )
    if account is not None:
        user.is_staff = account.is_staff
        user.is_superuser = account.is_superuser
        user.real_name_level = account.level
        if account.person is not None:
            number = normalize_identity_number(account.person.id_number)
            user.full_name = account.person.name
            user.id_type = account.person.id_type
            user.id_number_hash = crypto.keyed_hash(number, purpose=ID_NUMBER_HASH_PURPOSE)
            user.id_number_encrypted = crypto.encrypt(number)
            user.id_number_masked = mask_id(number)
            user.phone = account.person.phone
            user.phone_verified = True  # the demo people log in with their registry numbers too
            user.real_name_verified_at = timezone.now()
    return user


@transaction.atomic
def seed_demo_accounts() -> tuple[int, int]:
    """Create the demo accounts that are missing; return (created, already there).

    An existing account is left as it is (a changed password is the owner's choice).
    The password is hashed once for all of them: hashing 371 times would take minutes.
    """
    password_hash = make_password(DEMO_PASSWORD)
    wanted: dict[str, DemoAccount | None] = {account.email: account for account in DEMO_ACCOUNTS}
    memberships: list[tuple[str, int, StaffRole]] = []
    for department_id, uscc in Department.objects.order_by("uscc").values_list("pk", "uscc"):
        for role in (StaffRole.CLERK, StaffRole.SUPERVISOR):
            email = staff_email(role, uscc)
            wanted[email] = None
            memberships.append((email, department_id, role))
    existing = set(User.objects.filter(email__in=wanted).values_list("email", flat=True))
    new_users = [
        _new_user(email, password_hash, account=account) for email, account in wanted.items() if email not in existing
    ]
    User.objects.bulk_create(new_users, batch_size=500)

    ids = dict(User.objects.filter(email__in=wanted).values_list("email", "pk"))
    created_ids = {ids[user.email] for user in new_users}
    EmailAddress.objects.bulk_create(
        [EmailAddress(user_id=ids[user.email], email=user.email, verified=True, primary=True) for user in new_users],
        batch_size=500,
    )
    StaffMembership.objects.bulk_create(
        [
            StaffMembership(user_id=ids[email], department_id=department_id, role=role)
            for email, department_id, role in memberships
            if ids[email] in created_ids
        ],
        batch_size=500,
    )
    staff_ids = {ids[email] for email, _department, _role in memberships} | {
        ids[account.email] for account in DEMO_ACCOUNTS if account.is_staff
    }
    # One encryption of the shared secret serves every account: each decrypts it the same.
    secret = {"secret": crypto.encrypt(DEMO_TOTP_SECRET)}
    Authenticator.objects.bulk_create(
        [
            Authenticator(user_id=user_id, type=Authenticator.Type.TOTP, data=secret)
            for user_id in sorted(staff_ids & created_ids)
        ],
        batch_size=500,
    )
    return len(new_users), len(wanted) - len(new_users)


DEMO_LEGAL_REPRESENTATIVE_EMAIL = "legalrep@example.com"
DEMO_AGENT_EMAIL = "agent@example.com"
DEMO_AUTHORISATION_FROM = datetime.date(2026, 1, 1)


@transaction.atomic
def seed_demo_enterprises() -> tuple[int, int]:
    """legalrep has claimed the demo enterprise and authorised agent for all items; return (claimed, authorisations).

    Done through the actions, as a person would (the registry reads are logged). What is
    already there is left as it is; the counts are of claimed enterprises and unrevoked
    authorisations after the run.
    """
    representative = User.objects.filter(email=DEMO_LEGAL_REPRESENTATIVE_EMAIL).first()
    agent = User.objects.filter(email=DEMO_AGENT_EMAIL).first()
    if representative is not None:
        enterprise = Enterprise.objects.filter(uscc=YIWANG_TECHNOLOGY.uscc).first()
        if enterprise is None or enterprise.legal_representative_id is None:
            enterprise = account_actions.enterprise_claim(uscc=YIWANG_TECHNOLOGY.uscc, actor=representative)
        if (
            agent is not None
            and enterprise.legal_representative_id == representative.pk
            and not AgentAuthorisation.objects.filter(
                enterprise=enterprise, agent=agent, revoked_at__isnull=True
            ).exists()
        ):
            account_actions.agent_authorise(
                enterprise_id=enterprise.pk,
                agent_email=agent.email,
                scope=AuthorisationScope.ALL,
                item_codes=[],
                valid_from=DEMO_AUTHORISATION_FROM,
                valid_to=None,
                actor=representative,
            )
    return (
        Enterprise.objects.filter(legal_representative__isnull=False).count(),
        AgentAuthorisation.objects.filter(revoked_at__isnull=True).count(),
    )
