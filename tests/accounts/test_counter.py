"""高级实名 at the counter: a clerk who has seen the document confirms the account."""

import pytest
from django.test import Client

from accounts import real_name
from accounts.models import RealNameLevel, User
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from demo.registry_data import LI_NA, WANG_XIAOMING
from tests.factories import email_user, enroll_totp, give_identity

pytestmark = pytest.mark.django_db


def _confirm(clerk, *, email="wang@example.com", id_number=WANG_XIAOMING.id_number):
    return real_name.user_confirm_at_counter(email=email, id_type="111", id_number=id_number, clerk=clerk)


def test_a_clerk_confirms_the_document_and_the_account_reaches_level_three(wang, clerk):
    confirmed = _confirm(clerk)
    wang.refresh_from_db()
    assert (wang.real_name_level, wang.real_name_confirmed_by) == (RealNameLevel.ADVANCED, clerk)
    assert confirmed.pk == wang.pk


def test_another_persons_document_is_refused_and_nothing_changes(wang, clerk):
    with pytest.raises(DomainError) as error:
        _confirm(clerk, id_number=LI_NA.id_number)
    assert error.value.code == "document_mismatch"
    wang.refresh_from_db()
    assert (wang.real_name_level, wang.real_name_confirmed_by) == (RealNameLevel.BASIC, None)


def test_an_account_without_the_online_check_must_do_it_first(clerk):
    email_user("new@example.com")
    with pytest.raises(Conflict) as error:
        _confirm(clerk, email="new@example.com")
    assert error.value.code == "not_basic"
    assert User.objects.get(email="new@example.com").real_name_level == RealNameLevel.UNVERIFIED


def test_only_staff_confirm_and_never_their_own_account(wang, other_citizen, clerk):
    with pytest.raises(PermissionDenied):
        _confirm(other_citizen)
    give_identity(clerk, LI_NA, level=RealNameLevel.BASIC)
    with pytest.raises(PermissionDenied) as error:
        _confirm(clerk, email=clerk.email, id_number=LI_NA.id_number)
    assert error.value.code == "own_account"


def test_an_unknown_account_is_named_as_such(clerk):
    with pytest.raises(NotFound) as error:
        _confirm(clerk, email="nobody@example.com")
    assert error.value.code == "no_account"


def test_the_counter_page_confirms_and_is_closed_to_citizens(wang, clerk, other_citizen):
    enroll_totp(clerk)
    staff = Client()
    staff.force_login(clerk)
    response = staff.post(
        "/me/counter/confirm/", {"email": "wang@example.com", "id_type": "111", "id_number": WANG_XIAOMING.id_number}
    )
    assert response.status_code == 302
    wang.refresh_from_db()
    assert wang.real_name_level == RealNameLevel.ADVANCED

    citizen_client = Client()
    citizen_client.force_login(other_citizen)
    assert citizen_client.get("/me/counter/confirm/").status_code == 404


def test_a_mismatch_is_shown_next_to_the_number(wang, clerk):
    enroll_totp(clerk)
    staff = Client()
    staff.force_login(clerk)
    response = staff.post(
        "/en/me/counter/confirm/", {"email": "wang@example.com", "id_type": "111", "id_number": LI_NA.id_number}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "The document shown is not the one this account was verified with." in body
    assert 'aria-invalid="true"' in body
