"""Accounts in the admin: identity masked, memberships managed, nothing of identity editable."""

import pytest

from demo.registry_data import WANG_XIAOMING

pytestmark = pytest.mark.django_db


def test_a_users_identity_is_shown_masked_and_read_only(admin_client_with_mfa, citizen):
    response = admin_client_with_mfa.get(f"/admin/accounts/user/{citizen.pk}/change/")
    body = response.content.decode()
    assert response.status_code == 200
    assert citizen.id_number_masked in body
    assert WANG_XIAOMING.id_number not in body
    assert 'name="id_number_masked"' not in body  # shown, not an input
    assert 'name="real_name_level"' not in body


def test_posting_identity_fields_changes_nothing(admin_client_with_mfa, citizen):
    before = (citizen.real_name_level, citizen.id_number_hash, citizen.id_number_masked)
    admin_client_with_mfa.post(
        f"/admin/accounts/user/{citizen.pk}/change/",
        {"username": citizen.username, "email": citizen.email, "real_name_level": "1", "id_number_masked": "x"},
    )
    citizen.refresh_from_db()
    assert (citizen.real_name_level, citizen.id_number_hash, citizen.id_number_masked) == before


def test_memberships_are_listed_with_their_department(admin_client_with_mfa, clerk):
    response = admin_client_with_mfa.get("/admin/accounts/staffmembership/")
    membership = clerk.staff_memberships.get()
    assert response.status_code == 200
    assert membership.department.name in response.content.decode()


def test_enterprises_and_authorisations_are_shown_but_not_editable(admin_client_with_mfa, enterprise_agent, citizen):
    from django.utils import timezone

    from accounts.models import AgentAuthorisation, AuthorisationScope, Enterprise

    enterprise = Enterprise.objects.create(uscc="91330106MA2CYW08X3", name="杭州一网科技有限公司", kind="91")
    authorisation = AgentAuthorisation.objects.create(
        enterprise=enterprise,
        agent=enterprise_agent,
        scope=AuthorisationScope.ALL,
        valid_from="2026-01-01",
        granted_at=timezone.now(),
        granted_by=citizen,
    )

    listing = admin_client_with_mfa.get("/admin/accounts/enterprise/")
    change = admin_client_with_mfa.post(
        f"/admin/accounts/agentauthorisation/{authorisation.pk}/change/", {"scope": "listed"}
    )

    assert "杭州一网科技有限公司" in listing.content.decode()
    assert change.status_code == 403
    authorisation.refresh_from_db()
    assert authorisation.scope == AuthorisationScope.ALL
    assert admin_client_with_mfa.get("/admin/accounts/enterprise/add/").status_code == 403
