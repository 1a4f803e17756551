"""The header links staff to their workbench: asked once at login, no query on the pages."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from tests.accounts.helpers import totp_code
from tests.factories import PASSWORD, TOTP_SECRET, email_user, enroll_totp
from tests.helpers import get_counting_queries, logged_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

LINK = '<a href="/workbench/" id="header-workbench">工作台</a>'


def _log_in(client: Client, user: User, *, with_totp: bool) -> None:
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    if with_totp:
        response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(TOTP_SECRET)})
        assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_clerk_logged_in_finds_the_workbench_in_the_header_of_every_page_without_a_query(client, clerk):
    enroll_totp(clerk)
    _log_in(client, clerk, with_totp=True)

    home, queries = get_counting_queries(client, "/")
    english = client.get("/en/services/").content.decode()

    assert LINK in home.content.decode()
    assert '<a href="/en/workbench/" id="header-workbench">Workbench</a>' in english
    assert not [sql for sql in queries if "accounts_staffmembership" in sql]
    assert client.get("/workbench/").status_code == 200


def test_a_citizen_logged_in_has_no_workbench_link_and_pays_no_query_for_it(client, citizen):
    _log_in(client, citizen, with_totp=False)

    home, queries = get_counting_queries(client, "/")

    assert 'id="header-workbench"' not in home.content.decode()
    assert not [sql for sql in queries if "accounts_staffmembership" in sql]


def test_anonymous_visitors_have_no_workbench_link(client):
    assert 'id="header-workbench"' not in client.get("/").content.decode()


def test_platform_staff_are_known_from_their_user_row(db):
    admin = email_user("admin@example.com", is_staff=True)

    assert LINK in logged_in(admin).get("/").content.decode()


def test_a_session_claiming_staff_for_another_user_shows_no_link(client, citizen, clerk):
    _log_in(client, citizen, with_totp=False)
    session = client.session
    session["accounts.is_staff_member"] = [clerk.pk, True]
    session.save()

    assert 'id="header-workbench"' not in client.get("/").content.decode()
