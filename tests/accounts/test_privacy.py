"""Consent to the privacy notice (PIPL): given at sign-up, asked again when the notice changes."""

import pytest
from django.core import mail
from django.test import override_settings

from accounts.models import User
from tests.factories import PASSWORD, email_user

pytestmark = pytest.mark.django_db

SIGNUP = {"email": "new@example.com", "password1": "Zhejiang-portal-2026", "password2": "Zhejiang-portal-2026"}


def test_signing_up_without_consent_is_refused_and_creates_nothing(client):
    response = client.post("/en/accounts/signup/", SIGNUP)
    assert response.status_code == 200
    assert "Please read the privacy notice and agree to it to create an account." in response.content.decode()
    assert User.objects.count() == 0
    assert mail.outbox == []


def test_signing_up_with_consent_records_the_notice_version(client, settings):
    client.post("/en/accounts/signup/", {**SIGNUP, "privacy_consent": "on"})
    user = User.objects.get(email="new@example.com")
    assert user.privacy_notice_version == settings.PRIVACY_NOTICE_VERSION
    assert user.privacy_consented_at is not None


def test_a_new_notice_version_asks_again_then_returns_where_the_person_was_going(client):
    user = email_user("wang@example.com")
    client.login(username=user.username, password=PASSWORD)

    with override_settings(PRIVACY_NOTICE_VERSION="2027-01"):
        asked = client.get("/me/verify/")
        assert asked.status_code == 302
        assert asked["Location"] == "/me/privacy/?next=/me/verify/"
        refused = client.post("/me/privacy/?next=/me/verify/", {"next": "/me/verify/"})
        assert refused.status_code == 200
        agreed = client.post("/me/privacy/", {"next": "/me/verify/", "privacy_consent": "on"})
        assert agreed["Location"] == "/me/verify/"
        assert client.get("/me/verify/").status_code == 200

    user.refresh_from_db()
    assert user.privacy_notice_version == "2027-01"


def test_the_notice_itself_and_logging_out_stay_open_without_consent(client):
    user = email_user("wang@example.com")
    client.login(username=user.username, password=PASSWORD)
    with override_settings(PRIVACY_NOTICE_VERSION="2027-01"):
        assert client.get("/privacy/").status_code == 200
        assert client.post("/accounts/logout/").status_code == 302
        assert client.get("/me/").status_code == 302  # logged out: the login page, not the consent page
