"""A staff member's first authenticator (TOTP) needs a one-time enrolment code from a platform admin.

A leaked password alone must not be enough to enrol TOTP and become a clerk.
"""

from __future__ import annotations

import datetime
import logging
import re

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import call_command
from django.utils import timezone

from accounts import enrolment
from accounts.models import StaffEnrolmentCode
from core.errors import DomainError
from tests.accounts.helpers import totp_code
from tests.factories import PASSWORD, UserFactory, email_user, enroll_totp

pytestmark = pytest.mark.django_db

ACTIVATE = "/accounts/2fa/totp/activate/"
APP_LOGIN = "/_allauth/app/v1/auth/login"
APP_TOTP = "/_allauth/app/v1/account/authenticators/totp"


@pytest.fixture
def platform_admin():
    admin = UserFactory.create(username="root", email="root@example.com", is_staff=True, is_superuser=True)
    enroll_totp(admin)
    return admin


def _log_in(client, email: str) -> None:
    """Log in, then confirm the password again: allauth asks for it before an authenticator is added."""
    response = client.post("/accounts/login/", {"login": email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302


def _activation_page(client):
    page = client.get(ACTIVATE)
    assert page.status_code == 200
    return page, page.context["form"].secret


def test_a_clerk_without_a_code_cannot_enrol_with_the_password_alone(client, clerk):
    _log_in(client, "clerk@example.com")
    page, secret = _activation_page(client)
    assert 'name="enrolment_code"' in page.content.decode()

    response = client.post(ACTIVATE, {"code": totp_code(secret)})

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["enrolment_code"]
    assert not Authenticator.objects.filter(user=clerk).exists()


def test_a_wrong_code_is_refused(client, clerk, platform_admin):
    enrolment.staff_enrolment_code_issue(user_id=clerk.pk, actor=platform_admin)
    _log_in(client, "clerk@example.com")
    _page, secret = _activation_page(client)

    response = client.post(ACTIVATE, {"code": totp_code(secret), "enrolment_code": "AAAA-BBBB-CCCC"})

    assert response.status_code == 200
    assert response.context["form"].errors["enrolment_code"] == [
        "启用码无效：输入有误、已使用或已过期。请联系平台管理员。"
    ]
    assert not Authenticator.objects.filter(user=clerk).exists()


def test_the_issued_code_enrols_once_and_is_logged(client, clerk, platform_admin, caplog):
    caplog.set_level(logging.INFO, logger="accounts.enrolment")
    code = enrolment.staff_enrolment_code_issue(user_id=clerk.pk, actor=platform_admin)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    _log_in(client, "clerk@example.com")
    _page, secret = _activation_page(client)

    response = client.post(ACTIVATE, {"code": totp_code(secret), "enrolment_code": code.lower().replace("-", " ")})

    assert response.status_code == 302
    assert Authenticator.objects.filter(user=clerk, type=Authenticator.Type.TOTP).count() == 1
    stored = StaffEnrolmentCode.objects.get(user=clerk)
    assert stored.used_at is not None
    assert stored.issued_by == platform_admin
    assert code.replace("-", "") not in stored.code_hash
    assert [record.getMessage() for record in caplog.records if "enrolment code" in record.getMessage()] == [
        "staff enrolment code issued",
        "staff enrolment code used",
    ]
    with pytest.raises(DomainError):
        enrolment.staff_enrolment_code_use(user_id=clerk.pk, code=code)


def test_an_expired_code_is_refused(clerk, platform_admin):
    code = enrolment.staff_enrolment_code_issue(user_id=clerk.pk, actor=platform_admin)
    StaffEnrolmentCode.objects.filter(user=clerk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    with pytest.raises(DomainError) as refused:
        enrolment.staff_enrolment_code_use(user_id=clerk.pk, code=code)

    assert refused.value.code == "enrolment_code_invalid"


def test_codes_expire_after_72_hours_and_a_new_code_voids_the_earlier_one(clerk, platform_admin):
    first = enrolment.staff_enrolment_code_issue(user_id=clerk.pk, actor=platform_admin)
    issued = StaffEnrolmentCode.objects.get(user=clerk)
    assert issued.expires_at - issued.issued_at == datetime.timedelta(hours=72)

    second = enrolment.staff_enrolment_code_issue(user_id=clerk.pk, actor=platform_admin)

    with pytest.raises(DomainError):
        enrolment.staff_enrolment_code_use(user_id=clerk.pk, code=first)
    enrolment.staff_enrolment_code_use(user_id=clerk.pk, code=second)


def test_another_staff_members_code_does_not_work(clerk, other_clerk, platform_admin):
    code = enrolment.staff_enrolment_code_issue(user_id=other_clerk.pk, actor=platform_admin)

    with pytest.raises(DomainError):
        enrolment.staff_enrolment_code_use(user_id=clerk.pk, code=code)


def test_citizens_are_not_issued_codes_and_enrol_without_one(client, platform_admin):
    citizen = email_user("zhou@example.com")
    with pytest.raises(DomainError):
        enrolment.staff_enrolment_code_issue(user_id=citizen.pk, actor=platform_admin)
    _log_in(client, "zhou@example.com")
    page, secret = _activation_page(client)
    assert 'name="enrolment_code"' not in page.content.decode()

    response = client.post(ACTIVATE, {"code": totp_code(secret)})

    assert response.status_code == 302
    assert Authenticator.objects.filter(user=citizen, type=Authenticator.Type.TOTP).count() == 1


def test_a_platform_admin_issues_a_code_in_the_admin_and_sees_it_once(client, clerk, platform_admin):
    client.force_login(platform_admin)

    response = client.post(
        "/admin/accounts/user/",
        {"action": "issue_enrolment_code", "_selected_action": [clerk.pk]},
        follow=True,
    )

    page = response.content.decode()
    match = re.search(r"已为 clerk@example.com 签发启用码：([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})", page)
    assert match, page
    enrolment.staff_enrolment_code_use(user_id=clerk.pk, code=match.group(1))
    listing = client.get("/admin/accounts/staffenrolmentcode/").content.decode()
    assert match.group(1) not in listing


def test_a_clerk_cannot_issue_codes_in_the_admin(client, clerk, other_clerk):
    enroll_totp(clerk)
    clerk.is_staff = True
    clerk.save(update_fields=["is_staff"])
    client.force_login(clerk)

    client.post("/admin/accounts/user/", {"action": "issue_enrolment_code", "_selected_action": [other_clerk.pk]})

    assert not StaffEnrolmentCode.objects.exists()


def test_the_command_issues_a_code(clerk, capsys):
    call_command("issue_enrolment_code", "clerk@example.com")

    code = re.search(r"([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})", capsys.readouterr().out).group(1)
    enrolment.staff_enrolment_code_use(user_id=clerk.pk, code=code)
    assert StaffEnrolmentCode.objects.get(user=clerk).issued_by is None


def test_the_app_api_needs_the_code_too(client, clerk, platform_admin):
    login = client.post(
        APP_LOGIN, {"email": "clerk@example.com", "password": PASSWORD}, content_type="application/json"
    )
    token = login.json()["meta"]["session_token"]
    client.cookies.clear()
    headers = {"X-Session-Token": token}
    reauthenticated = client.post(
        "/_allauth/app/v1/auth/reauthenticate", {"password": PASSWORD}, content_type="application/json", headers=headers
    )
    assert reauthenticated.status_code == 200
    secret = client.get(APP_TOTP, headers=headers).json()["meta"]["secret"]

    refused = client.post(APP_TOTP, {"code": totp_code(secret)}, content_type="application/json", headers=headers)

    assert refused.status_code == 400
    assert [error["param"] for error in refused.json()["errors"]] == ["enrolment_code"]
    assert not Authenticator.objects.filter(user=clerk).exists()

    code = enrolment.staff_enrolment_code_issue(user_id=clerk.pk, actor=platform_admin)
    enrolled = client.post(
        APP_TOTP,
        {"code": totp_code(secret), "enrolment_code": code},
        content_type="application/json",
        headers=headers,
    )

    assert enrolled.status_code == 200
    assert Authenticator.objects.filter(user=clerk, type=Authenticator.Type.TOTP).count() == 1
