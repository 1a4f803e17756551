"""seed_demo creates the demo accounts once; running it again changes nothing."""

import datetime

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts.models import AgentAuthorisation, Enterprise, EnterpriseEvent, RealNameLevel, StaffMembership, User
from core import crypto
from datahub.models import LegalPersonRecord, PersonRecord
from demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_TOTP_SECRET
from services.models import Department, Region, ServiceItem
from tests.helpers import run_python

CATALOGUE_LINE = (
    "Catalogue: 1 province, 11 cities, 26 counties, 183 departments, 23 themes, 366 published items, "
    "5 bundles, 36 search synonyms."
)
REGISTRIES_LINE = "Registries: 1008 persons, 241 legal persons."
ACCOUNT_COUNT = 7 + 2 * 183

# The embedded default (SQLite) must behave the same.
pytestmark = pytest.mark.both_databases


def _snapshot() -> dict[str, list[tuple]]:
    return {
        "users": list(
            User.objects.order_by("email").values_list(
                "pk", "email", "password", "real_name_level", "full_name", "id_number_hash", "is_staff", "is_superuser"
            )
        ),
        "addresses": list(EmailAddress.objects.order_by("pk").values_list("pk", "user_id", "email", "verified")),
        "memberships": list(StaffMembership.objects.order_by("pk").values_list("pk", "user_id", "department_id")),
        "authenticators": list(Authenticator.objects.order_by("pk").values_list("pk", "user_id", "type")),
    }


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing(capsys):
    with override_settings(DEBUG=True):
        call_command("seed_demo")
        first = _snapshot()
        call_command("seed_demo")
    output = capsys.readouterr().out
    assert len(first["users"]) == ACCOUNT_COUNT
    assert len(first["addresses"]) == ACCOUNT_COUNT
    assert len(first["memberships"]) == 2 * 183
    assert len(first["authenticators"]) == 2 * 183 + 1
    assert _snapshot() == first
    assert f"Demo accounts: {ACCOUNT_COUNT} created, 0 already there." in output
    assert f"Demo accounts: 0 created, {ACCOUNT_COUNT} already there." in output
    assert f"Every demo account's password is {DEMO_PASSWORD}" in output
    assert (
        "  clerk-<uscc>@example.com and supervisor-<uscc>@example.com for each of the 183 departments "
        "(USCC in lower case)" in output
    )
    assert output.count(CATALOGUE_LINE) == 2
    assert output.count(REGISTRIES_LINE) == 2
    assert output.count("Enterprises: 1 claimed, 1 agent authorisation.") == 2


@pytest.mark.django_db
def test_demo_accounts_have_their_levels_roles_and_verified_addresses():
    with override_settings(DEBUG=True):
        call_command("seed_demo")
    levels = dict(
        User.objects.filter(email__in=[a.email for a in DEMO_ACCOUNTS]).values_list("email", "real_name_level")
    )
    assert levels == {
        "citizen@example.com": RealNameLevel.ADVANCED,
        "citizen2@example.com": RealNameLevel.BASIC,
        "citizen3@example.com": RealNameLevel.BASIC,
        "newcomer@example.com": RealNameLevel.UNVERIFIED,
        "legalrep@example.com": RealNameLevel.BASIC,
        "agent@example.com": RealNameLevel.BASIC,
        "admin@example.com": RealNameLevel.UNVERIFIED,
    }
    citizen = User.objects.get(email="citizen@example.com")
    assert (citizen.full_name, citizen.id_number_masked, citizen.phone) == (
        "王小明",
        "3****************4",
        "13712349050",
    )
    assert crypto.decrypt(citizen.id_number_encrypted) == "330106198805120314"
    assert list(User.objects.filter(is_superuser=True).values_list("email", flat=True)) == ["admin@example.com"]
    assert EmailAddress.objects.filter(verified=True, primary=True).count() == ACCOUNT_COUNT
    department = Department.objects.order_by("uscc").first()
    assert department is not None
    roles = set(StaffMembership.objects.filter(department=department).values_list("user__email", "role"))
    assert roles == {
        (f"clerk-{department.uscc.lower()}@example.com", "clerk"),
        (f"supervisor-{department.uscc.lower()}@example.com", "supervisor"),
    }
    secrets = {crypto.decrypt(data["secret"]) for data in Authenticator.objects.values_list("data", flat=True)}
    assert secrets == {DEMO_TOTP_SECRET}
    assert authenticate(username="citizen@example.com", password=DEMO_PASSWORD) is not None


@pytest.mark.django_db
def test_legalrep_has_claimed_the_demo_enterprise_and_authorised_agent_once():
    with override_settings(DEBUG=True):
        call_command("seed_demo")
        call_command("seed_demo")
    enterprise = Enterprise.objects.get()
    assert (enterprise.uscc, enterprise.name, enterprise.legal_representative.email) == (
        "91330106MA2CYW08X3",
        "杭州一网科技有限公司",
        "legalrep@example.com",
    )
    authorisation = AgentAuthorisation.objects.get()
    assert (
        authorisation.agent.email,
        authorisation.scope,
        authorisation.valid_from,
        authorisation.valid_to,
        authorisation.revoked_at,
        authorisation.granted_by_id,
    ) == ("agent@example.com", "all", datetime.date(2026, 1, 1), None, None, enterprise.legal_representative_id)
    assert list(EnterpriseEvent.objects.order_by("pk").values_list("action", flat=True)) == ["claimed", "authorised"]


@pytest.mark.django_db
def test_a_changed_password_survives_a_second_seed():
    with override_settings(DEBUG=True):
        call_command("seed_demo")
        user = User.objects.get(email="citizen@example.com")
        user.set_password("my-own-new-password")
        user.save(update_fields=["password"])
        call_command("seed_demo")
    assert authenticate(username="citizen@example.com", password="my-own-new-password") is not None


@pytest.mark.django_db
def test_seed_demo_refuses_production_without_being_told():
    with pytest.raises(CommandError, match="Pass --demo-accounts"):
        call_command("seed_demo")
    assert User.objects.count() == 0
    assert Region.objects.count() == 0
    assert ServiceItem.objects.count() == 0
    assert PersonRecord.objects.count() == 0
    assert LegalPersonRecord.objects.count() == 0


@pytest.mark.django_db
def test_seed_demo_seeds_production_when_told():
    call_command("seed_demo", "--demo-accounts")
    assert User.objects.count() == ACCOUNT_COUNT


def test_an_installation_may_leave_the_demo_app_out():
    # given an embedded installation, with the demo app and without it
    environment = {"DEBUG": "true", "DATABASE_URL": "sqlite://:memory:"}

    # when
    with_demo = run_python("manage.py", "help", "seed_demo", **environment)
    without_demo = run_python("manage.py", "help", "seed_demo", **environment, DEMO_APP="false")

    # then
    assert with_demo.returncode == 0, with_demo.stderr
    assert "--demo-accounts" in with_demo.stdout
    assert without_demo.returncode == 1
    assert "Unknown command: 'seed_demo'" in without_demo.stderr
