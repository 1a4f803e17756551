"""The mobile app logs in through allauth's headless API and calls /api/v1/ with its session token."""

from __future__ import annotations

import time

import pytest

from accounts.models import RealNameLevel
from demo.registry_data import WANG_XIAOMING
from tests.accounts.helpers import totp_code
from tests.factories import PASSWORD, TOTP_SECRET, email_user, enroll_totp

pytestmark = pytest.mark.django_db

LOGIN = "/_allauth/app/v1/auth/login"
SECOND_FACTOR = "/_allauth/app/v1/auth/2fa/authenticate"
ME = "/api/v1/me/"


def app_login(client, email: str, password: str = PASSWORD):
    return client.post(LOGIN, {"email": email, "password": password}, content_type="application/json")


def test_the_app_logs_in_with_email_and_password_and_gets_a_session_token(client, citizen):
    response = app_login(client, "citizen@example.com")

    assert response.status_code == 200
    body = response.json()
    assert body["meta"]["is_authenticated"] is True
    assert len(body["meta"]["session_token"]) >= 32
    assert body["data"]["user"]["email"] == "citizen@example.com"


def test_a_wrong_password_gets_no_session(client, citizen):
    response = app_login(client, "citizen@example.com", "not-the-password")

    assert response.status_code == 400
    assert "session_token" not in response.json().get("meta", {})


def test_the_session_token_reads_the_user_through_the_api(client, citizen):
    token = app_login(client, "citizen@example.com").json()["meta"]["session_token"]
    client.cookies.clear()  # the app sends only its token, never the login's cookies

    response = client.get(ME, headers={"X-Session-Token": token})

    assert response.status_code == 200
    assert response.json() == {
        "email": "citizen@example.com",
        "real_name_level": RealNameLevel.ADVANCED,
        "masked_name": "*小明",
        "id_type": citizen.id_type,
        "id_number_masked": citizen.id_number_masked,
    }
    assert WANG_XIAOMING.id_number not in response.content.decode()


def test_without_a_token_the_api_answers_with_its_error_body(client, citizen):
    response = client.get(ME)

    assert response.status_code == 403
    assert response.json() == {
        "code": "not_authenticated",
        "message": "身份认证信息未提供。",
        "fields": {},
    }


def test_an_unknown_token_is_refused_as_invalid_not_as_missing(client, citizen):
    response = client.get(ME, headers={"X-Session-Token": "not-a-token"})

    assert response.status_code == 403
    assert response.json()["code"] == "session_token_invalid"


def test_the_browser_session_reads_the_user_too(client, citizen):
    client.force_login(citizen)

    response = client.get(ME)

    assert response.status_code == 200
    assert response.json()["email"] == "citizen@example.com"


def test_logging_out_of_the_app_ends_the_token(client, citizen):
    token = app_login(client, "citizen@example.com").json()["meta"]["session_token"]
    client.cookies.clear()

    logout = client.delete("/_allauth/app/v1/auth/session", headers={"X-Session-Token": token})

    assert logout.status_code == 401  # allauth answers a logout with "no longer authenticated"
    assert client.get(ME, headers={"X-Session-Token": token}).status_code == 403


def test_staff_with_totp_finish_the_app_login_with_a_code(client):
    admin = email_user("admin@example.com", is_staff=True, is_superuser=True)
    enroll_totp(admin)

    first = app_login(client, "admin@example.com")

    assert first.status_code == 401
    first_body = first.json()
    assert first_body["meta"]["is_authenticated"] is False
    pending = [flow for flow in first_body["data"]["flows"] if flow.get("is_pending")]
    assert pending == [{"id": "mfa_authenticate", "is_pending": True, "types": ["totp"]}]
    token = first_body["meta"]["session_token"]
    client.cookies.clear()
    assert client.get(ME, headers={"X-Session-Token": token}).status_code == 403

    wrong = client.post(
        SECOND_FACTOR,
        {"code": totp_code(TOTP_SECRET, at=time.time() - 3600)},
        content_type="application/json",
        headers={"X-Session-Token": token},
    )
    assert wrong.status_code == 400

    second = client.post(
        SECOND_FACTOR,
        {"code": totp_code(TOTP_SECRET)},
        content_type="application/json",
        headers={"X-Session-Token": token},
    )

    assert second.status_code == 200
    assert second.json()["meta"]["is_authenticated"] is True
    final_token = second.json()["meta"]["session_token"]
    me = client.get(ME, headers={"X-Session-Token": final_token})
    assert me.status_code == 200
    assert me.json()["email"] == "admin@example.com"
