"""Staff reach the admin only with TOTP, never through the admin's own login form; demo staff use the demo secret."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import call_command
from django.test import override_settings

from accounts import selectors
from accounts.decorators import staff_member_required_with_mfa
from demo.accounts import DEMO_PASSWORD, DEMO_TOTP_SECRET
from services.models import Department
from tests.accounts.helpers import totp_code
from tests.factories import PASSWORD, TOTP_SECRET, email_user, enroll_totp

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_of_the_admin_go_to_the_portal_login(client):
    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"


def test_the_admin_login_form_redirects_to_the_portal_login(client):
    response = client.get("/admin/login/?next=/admin/services/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/services/"


def test_posting_to_the_admin_login_logs_nobody_in(client):
    admin = email_user("admin@example.com", is_staff=True, is_superuser=True)
    enroll_totp(admin)

    response = client.post("/admin/login/", {"username": "admin@example.com", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_a_clerk_who_may_not_use_the_admin_is_told_so_instead_of_being_sent_round_the_login(client, clerk):
    """A department member without is_staff, signed in with TOTP: the admin would send them to the login, and the
    login straight back to the admin, for ever."""
    enroll_totp(clerk)
    client.force_login(clerk)

    to_the_login = client.get("/admin/")
    answer = client.get(to_the_login["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert to_the_login.status_code == 302
    assert to_the_login["Location"].startswith("/admin/login/")
    assert answer.status_code == 403
    assert "没有访问此页面的权限" in answer.content.decode()
    assert answer.templates[0].name == "403.html"


def test_staff_without_totp_are_sent_to_activate_it(client):
    client.force_login(email_user("admin@example.com", is_staff=True, is_superuser=True))

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_a_clerk_without_totp_is_sent_to_activate_it(client, clerk):
    client.force_login(clerk)

    assert client.get("/admin/")["Location"] == "/accounts/2fa/totp/activate/"


def test_staff_with_totp_reach_the_admin(client):
    admin = email_user("admin@example.com", is_staff=True, is_superuser=True)
    enroll_totp(admin)
    client.force_login(admin)

    assert client.get("/admin/").status_code == 200


def test_a_citizen_is_told_nothing_about_the_admin(client, citizen):
    client.force_login(citizen)

    assert client.get("/admin/").status_code == 404


def test_the_decorator_guards_staff_pages(rf, clerk, citizen):
    @staff_member_required_with_mfa
    def page(request):
        from django.http import HttpResponse

        return HttpResponse("ok")

    request = rf.get("/workbench/")
    request.user = clerk
    assert page(request)["Location"] == "/accounts/2fa/totp/activate/"
    enroll_totp(clerk)
    assert page(request).status_code == 200


def test_staff_log_in_with_password_then_a_totp_code(client):
    admin = email_user("admin@example.com", is_staff=True, is_superuser=True)
    enroll_totp(admin)

    first = client.post("/accounts/login/", {"login": "admin@example.com", "password": PASSWORD})
    assert first.status_code == 302
    assert first["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    wrong = client.post("/accounts/2fa/authenticate/", {"code": totp_code(TOTP_SECRET, at=time.time() - 3600)})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session

    second = client.post("/accounts/2fa/authenticate/", {"code": totp_code(TOTP_SECRET)})

    assert second.status_code == 302
    assert client.session["_auth_user_id"] == str(admin.pk)
    assert client.get("/admin/").status_code == 200


def test_selectors_name_the_departments_of_a_staff_member(
    clerk, other_clerk, supervisor, citizen, department, other_department
):
    assert selectors.staff_departments(clerk) == [department.pk]
    assert selectors.staff_departments(supervisor) == [department.pk]
    assert selectors.staff_departments(other_clerk) == [other_department.pk]
    assert selectors.staff_departments(citizen) == []
    assert selectors.is_staff_member(clerk) is True
    assert selectors.is_staff_member(citizen) is False


def test_a_demo_clerk_logs_in_with_the_demo_password_and_totp_secret(client):
    with override_settings(DEBUG=True):
        call_command("seed_demo")
    department = Department.objects.order_by("uscc").first()
    assert department is not None
    email = f"clerk-{department.uscc.lower()}@example.com"
    authenticator = Authenticator.objects.get(user__email=email, type=Authenticator.Type.TOTP)
    assert DEMO_TOTP_SECRET not in str(authenticator.data)

    first = client.post("/accounts/login/", {"login": email, "password": DEMO_PASSWORD})
    assert first["Location"] == "/accounts/2fa/authenticate/"
    second = client.post("/accounts/2fa/authenticate/", {"code": totp_code(DEMO_TOTP_SECRET)})

    assert second.status_code == 302
    assert client.session["_auth_user_id"] == str(authenticator.user_id)
    assert selectors.staff_departments(authenticator.user) == [department.pk]
