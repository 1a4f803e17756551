"""Departments' systems log users in through the portal's OpenID Connect provider (authorization code + PKCE)."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from allauth.idp.oidc.models import Client
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from accounts.models import RealNameLevel
from demo.registry_data import WANG_XIAOMING
from tests.factories import email_user, enroll_totp
from tests.helpers import PRODUCTION_ENV, run_python

pytestmark = pytest.mark.django_db

AUTHORIZE = "/identity/o/authorize"
TOKEN = "/identity/o/api/token"
USERINFO = "/identity/o/api/userinfo"
REDIRECT_URI = "https://shichang.example.gov.cn/oidc/callback"
CLIENT_SECRET = "department-system-secret-0123456789"


@pytest.fixture
def department_system() -> Client:
    """A department's approval system, registered as an OIDC client the way the admin registers one."""
    client = Client(
        name="市场监管审批系统",
        type=Client.Type.CONFIDENTIAL,
        scopes="openid\nemail\nprofile",
        redirect_uris=REDIRECT_URI,
    )
    client.set_secret(CLIENT_SECRET)
    client.save()
    return client


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(client, system: Client, *, scope: str, challenge: str) -> str:
    """Ask for a code as the department's system would, grant it on the consent page; return the code."""
    query = {
        "response_type": "code",
        "client_id": system.id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": "state-42",
        "nonce": "nonce-7",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    consent = client.get(f"{AUTHORIZE}?{urlencode(query)}")
    assert consent.status_code == 200
    assert "市场监管审批系统" in consent.content.decode()
    granted = client.post(
        AUTHORIZE,
        {
            "request": consent.context["form"]["request"].value(),
            "scopes": scope.split(),
            "action": "grant",
        },
    )
    assert granted.status_code == 302
    location = urlsplit(granted["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    params = parse_qs(location.query)
    assert params["state"] == ["state-42"]
    return params["code"][0]


def exchange(client, system: Client, code: str, verifier: str):
    return client.post(
        TOKEN,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": system.id,
            "client_secret": CLIENT_SECRET,
        },
    )


def public_key_pem() -> str:
    key = load_pem_private_key(os.environ["IDP_OIDC_PRIVATE_KEY"].encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_the_discovery_document_names_the_endpoints_and_claims(client):
    response = client.get("/.well-known/openid-configuration")

    assert response.status_code == 200
    body = response.json()
    assert body["issuer"] == "http://testserver"
    assert body["authorization_endpoint"] == "http://testserver/identity/o/authorize"
    assert body["token_endpoint"] == "http://testserver/identity/o/api/token"
    assert body["userinfo_endpoint"] == "http://testserver/identity/o/api/userinfo"
    assert body["jwks_uri"] == "http://testserver/.well-known/jwks.json"
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["claims_supported"] == [
        "sub", "email", "email_verified", "real_name_level", "name", "id_type", "id_number_masked",
    ]  # fmt: skip


def test_an_anonymous_visitor_is_sent_to_the_portal_login_first(client, department_system):
    _verifier, challenge = pkce_pair()
    query = urlencode({"response_type": "code", "client_id": department_system.id, "redirect_uri": REDIRECT_URI,
                       "scope": "openid", "code_challenge": challenge, "code_challenge_method": "S256"})  # fmt: skip

    response = client.get(f"{AUTHORIZE}?{query}")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/identity/o/authorize%3F")


def test_code_flow_with_pkce_gives_the_department_the_verified_identity_masked(client, citizen, department_system):
    client.force_login(citizen)
    verifier, challenge = pkce_pair()
    code = authorize(client, department_system, scope="openid email profile", challenge=challenge)
    client.logout()  # the department's server calls the token and userinfo endpoints, without the user's cookies

    tokens = exchange(client, department_system, code, verifier)

    assert tokens.status_code == 200
    token_body = tokens.json()
    assert token_body["token_type"] == "Bearer"
    userinfo = client.get(USERINFO, headers={"Authorization": f"Bearer {token_body['access_token']}"})
    assert userinfo.status_code == 200
    expected = {
        "sub": str(citizen.pk),
        "email": "citizen@example.com",
        "email_verified": True,
        "real_name_level": RealNameLevel.ADVANCED,
        "name": "王小明",
        "id_type": citizen.id_type,
        "id_number_masked": citizen.id_number_masked,
    }
    assert userinfo.json() == expected
    id_token = jwt.decode(token_body["id_token"], public_key_pem(), algorithms=["RS256"], audience=department_system.id)
    assert {key: id_token[key] for key in expected} == expected
    assert id_token["iss"] == "http://testserver"
    assert id_token["nonce"] == "nonce-7"
    for body in (tokens.content.decode(), userinfo.content.decode(), str(id_token)):
        assert WANG_XIAOMING.id_number not in body  # the clear number never leaves the portal


def test_without_the_profile_scope_the_department_learns_no_name_nor_identity(client, citizen, department_system):
    client.force_login(citizen)
    verifier, challenge = pkce_pair()
    code = authorize(client, department_system, scope="openid email", challenge=challenge)

    access_token = exchange(client, department_system, code, verifier).json()["access_token"]
    userinfo = client.get(USERINFO, headers={"Authorization": f"Bearer {access_token}"})

    assert userinfo.json() == {
        "sub": str(citizen.pk),
        "email": "citizen@example.com",
        "email_verified": True,
        "real_name_level": RealNameLevel.ADVANCED,
    }


def test_an_unverified_account_gives_no_name_even_with_the_profile_scope(client, department_system):
    user = email_user("new@example.com", last_name="张", first_name="三")
    client.force_login(user)
    verifier, challenge = pkce_pair()
    code = authorize(client, department_system, scope="openid profile", challenge=challenge)

    access_token = exchange(client, department_system, code, verifier).json()["access_token"]
    userinfo = client.get(USERINFO, headers={"Authorization": f"Bearer {access_token}"})

    assert userinfo.json() == {"sub": str(user.pk), "real_name_level": RealNameLevel.UNVERIFIED}


def test_a_wrong_code_verifier_gets_no_token(client, citizen, department_system):
    client.force_login(citizen)
    _verifier, challenge = pkce_pair()
    code = authorize(client, department_system, scope="openid", challenge=challenge)

    response = exchange(client, department_system, code, pkce_pair()[0])

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_production_settings_refuse_to_start_without_a_signing_key():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "IDP_OIDC_PRIVATE_KEY"}

    result = run_python("manage.py", "check", **env)

    assert result.returncode != 0
    assert "IDP_OIDC_PRIVATE_KEY (signs the ID tokens" in result.stderr


def test_production_settings_refuse_a_key_that_is_not_rsa():
    result = run_python("manage.py", "check", **{**PRODUCTION_ENV, "IDP_OIDC_PRIVATE_KEY": "not a key"})

    assert result.returncode != 0
    assert "IDP_OIDC_PRIVATE_KEY must be an unencrypted RSA private key in PEM" in result.stderr


def test_an_administrator_registers_a_department_system_in_the_admin(client):
    admin = email_user("admin@example.com", is_staff=True, is_superuser=True)
    enroll_totp(admin)
    client.force_login(admin)
    assert client.get("/admin/allauth_idp_oidc/client/add/").status_code == 200

    response = client.post(
        "/admin/allauth_idp_oidc/client/add/",
        {
            "name": "民政婚姻登记系统",
            "type": "confidential",
            "scopes": "openid\r\nprofile",
            "default_scopes": "",
            "grant_types": "authorization_code",
            "redirect_uris": "https://minzheng.example.gov.cn/callback",
            "cors_origins": "",
            "response_types": "code",
            "id": "minzheng-marriage",
            "created_at_0": "2026-01-05",
            "created_at_1": "09:00:00",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    registered = Client.objects.get(pk="minzheng-marriage")
    assert registered.get_redirect_uris() == ["https://minzheng.example.gov.cn/callback"]
    assert registered.get_scopes() == ["openid", "profile"]
    assert registered.secret.startswith("md5$")  # stored hashed (tests hash with MD5); shown once to the admin


def test_a_failed_redemption_burns_the_code_so_the_right_verifier_fails_after_it(client, citizen, department_system):
    client.force_login(citizen)
    verifier, challenge = pkce_pair()
    code = authorize(client, department_system, scope="openid", challenge=challenge)
    client.logout()

    wrong = exchange(client, department_system, code, pkce_pair()[0])
    right = exchange(client, department_system, code, verifier)

    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert right.status_code == 400
    assert right.json()["error"] == "invalid_grant"
    assert "access_token" not in right.json()
