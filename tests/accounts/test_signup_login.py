"""Sign up by e-mail, verify it by a mailed code, log in; wrong passwords are throttled."""

from __future__ import annotations

import re
import time

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from accounts.models import RealNameLevel, User
from tests.accounts.helpers import last_mailed_code
from tests.factories import PASSWORD, email_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Zhejiang-portal-2026"


def test_signup_mails_a_code_and_the_code_verifies_the_address_and_logs_in(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "zhou@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "privacy_consent": "on"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["zhou@example.com"]
    user = User.objects.get(email="zhou@example.com")
    assert user.real_name_level == RealNameLevel.UNVERIFIED
    assert EmailAddress.objects.get(user=user).verified is False
    assert client.get("/me/")["Location"].startswith("/accounts/login/")

    response = client.post("/accounts/confirm-email/", {"code": last_mailed_code("zhou@example.com")})

    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified is True
    me = client.get("/me/")
    assert me.status_code == 200
    assert "zhou@example.com" in me.content.decode()


def test_a_wrong_code_verifies_nothing(client):
    client.post(
        "/accounts/signup/",
        {"email": "zhou@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "privacy_consent": "on"},
    )

    response = client.post("/accounts/confirm-email/", {"code": "WRONG1"})

    assert response.status_code == 200
    assert EmailAddress.objects.get(email="zhou@example.com").verified is False


def test_an_unverified_address_cannot_log_in_until_its_code_is_entered(client):
    user = User.objects.create_user(username="u1", email="li@example.com", password=NEW_PASSWORD)
    EmailAddress.objects.create(user=user, email="li@example.com", verified=False, primary=True)

    response = client.post("/accounts/login/", {"login": "li@example.com", "password": NEW_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert client.get("/me/").status_code == 302
    assert len(mail.outbox) == 1


def test_a_verified_user_logs_in_by_email_and_lands_on_their_account(client):
    email_user("wang@example.com")

    response = client.post("/accounts/login/", {"login": "wang@example.com", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/me/"
    assert client.get("/me/").status_code == 200


def test_login_pages_are_chinese_by_default_and_english_under_en(client):
    chinese = client.get("/accounts/login/").content.decode()
    english = client.get("/en/accounts/login/").content.decode()

    assert '<html lang="zh-Hans">' in chinese
    assert '<a class="brand" href="/">' in chinese
    assert '<html lang="en">' in english
    assert 'action="/en/accounts/login/"' in english


def test_after_five_wrong_passwords_even_the_right_one_is_refused(client):
    email_user("wang@example.com")
    for _attempt in range(5):
        wrong = client.post("/accounts/login/", {"login": "wang@example.com", "password": "not-the-password"})
        assert wrong.status_code == 200

    response = client.post("/accounts/login/", {"login": "wang@example.com", "password": PASSWORD})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get("/me/").status_code == 302


def test_logout_is_a_post_and_ends_the_session(client):
    user = email_user("wang@example.com")
    client.force_login(user)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/me/").status_code == 302


def _sign_up(client, email: str = "zhou@example.com"):
    return client.post(
        "/accounts/signup/",
        {"email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "privacy_consent": "on"},
    )


def _later(monkeypatch, seconds: float) -> None:
    """Move the clock of allauth's rate limits (and of the wait shown) forward."""
    now = time.time() + seconds
    monkeypatch.setattr("time.time", lambda: now)


def test_the_code_page_offers_a_resend_button_that_posts_the_resend_action(client):
    _sign_up(client)

    page = client.get("/accounts/confirm-email/").content.decode()

    assert 'name="action" value="resend"' in page
    assert "重新发送验证码" in page


def test_resend_too_soon_shows_the_wait_and_counts_no_failed_attempt(client):
    _sign_up(client)
    first_code = last_mailed_code("zhou@example.com")

    for _press in range(3):
        response = client.post("/accounts/confirm-email/", {"action": "resend"}, follow=True)
        assert response.redirect_chain[-1][0] == "/accounts/confirm-email/"
        page = response.content.decode()
        assert "该字段是必填项" not in page
        assert re.search(r"请 \d+ 秒后再重新发送验证码", page), page

    assert len(mail.outbox) == 1
    response = client.post("/accounts/confirm-email/", {"code": first_code})
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="zhou@example.com").verified is True


def test_resend_after_the_wait_mails_a_new_code_that_verifies(client, monkeypatch):
    _sign_up(client)
    first_code = last_mailed_code("zhou@example.com")
    _later(monkeypatch, 11)

    response = client.post("/accounts/confirm-email/", {"action": "resend"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert len(mail.outbox) == 2
    second_code = last_mailed_code("zhou@example.com")
    assert second_code != first_code
    assert client.post("/accounts/confirm-email/", {"code": second_code}).status_code == 302
    assert EmailAddress.objects.get(email="zhou@example.com").verified is True
