"""seed_demo creates the demo accounts once; running it again changes nothing."""

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts.models import User
from datahub.models import LegalPersonRecord, PersonRecord
from portal.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from services.models import Region, ServiceItem

CATALOGUE_LINE = (
    "Catalogue: 1 province, 11 cities, 26 counties, 183 departments, 23 themes, 366 published items, "
    "5 bundles, 36 search synonyms."
)
REGISTRIES_LINE = "Registries: 1007 persons, 241 legal persons."

# The embedded default (SQLite) must behave the same.
pytestmark = pytest.mark.both_databases


def _snapshot() -> list[tuple]:
    return list(
        User.objects.order_by("username").values_list(
            "pk", "username", "password", "last_name", "first_name", "email", "is_staff", "is_superuser"
        )
    )


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing(capsys):
    with override_settings(DEBUG=True):
        call_command("seed_demo")
        first = _snapshot()
        call_command("seed_demo")
    output = capsys.readouterr().out
    assert [row[1] for row in first] == sorted(account.username for account in DEMO_ACCOUNTS)
    assert _snapshot() == first
    assert "Demo accounts: 7 created, 0 already there." in output
    assert "Demo accounts: 0 created, 7 already there." in output
    assert f"Every demo account's password is {DEMO_PASSWORD}" in output
    assert output.count(CATALOGUE_LINE) == 2
    assert output.count(REGISTRIES_LINE) == 2


@pytest.mark.django_db
def test_demo_accounts_can_log_in_and_only_admin_is_superuser():
    with override_settings(DEBUG=True):
        call_command("seed_demo")
    assert authenticate(username="citizen", password=DEMO_PASSWORD) is not None
    assert list(User.objects.filter(is_superuser=True).values_list("username", flat=True)) == ["admin"]


@pytest.mark.django_db
def test_a_changed_password_survives_a_second_seed():
    with override_settings(DEBUG=True):
        call_command("seed_demo")
        user = User.objects.get(username="citizen")
        user.set_password("my-own-new-password")
        user.save(update_fields=["password"])
        call_command("seed_demo")
    assert authenticate(username="citizen", password="my-own-new-password") is not None


@pytest.mark.django_db
def test_seed_demo_refuses_production_without_being_told():
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo")
    assert User.objects.count() == 0
    assert Region.objects.count() == 0
    assert ServiceItem.objects.count() == 0
    assert PersonRecord.objects.count() == 0
    assert LegalPersonRecord.objects.count() == 0
