"""In a demonstration the real-name page names the registry people nobody has claimed, so the journey can be tried."""

from __future__ import annotations

import re

import pytest

from accounts.models import RealNameLevel, User
from demo.registry_data import LIN_XIAOYAN, WANG_XIAOMING, WANG_YUTONG, ZHOU_XINYU
from tests.datahub.builders import make_person
from tests.factories import email_user, give_identity

pytestmark = pytest.mark.django_db


@pytest.fixture
def newcomer(client) -> User:
    user = email_user("newcomer@example.com")
    client.force_login(user)
    return user


def _hint_rows(body: str) -> list[str]:
    table = re.search(r'<table id="demo-people"[^>]*>(.*?)</table>', body, re.S)
    assert table, "no demo people table"
    # the first cell of each row: the person's name
    return re.findall(r"<tr><td[^>]*>([^<]*)</td>", table.group(1))


def test_with_debug_the_page_lists_unclaimed_adults_only(client, settings, newcomer):
    settings.DEBUG = True
    give_identity(email_user("citizen@example.com"), WANG_XIAOMING)

    body = client.get("/me/verify/").content.decode()

    names = _hint_rows(body)
    assert ZHOU_XINYU.name in names
    assert LIN_XIAOYAN.name in names
    assert WANG_XIAOMING.name not in names  # claimed by the citizen's account
    assert WANG_YUTONG.name not in names  # a child
    assert ZHOU_XINYU.id_number in body


def test_without_debug_no_registry_person_is_named(client, settings, newcomer):
    settings.DEBUG = False

    body = client.get("/me/verify/").content.decode()

    assert 'id="demo-people"' not in body
    assert ZHOU_XINYU.id_number not in body


def test_a_listed_identity_verifies(client, settings, newcomer):
    settings.DEBUG = True
    make_person(ZHOU_XINYU)
    body = client.get("/me/verify/").content.decode()
    assert ZHOU_XINYU.name in _hint_rows(body)

    response = client.post(
        "/me/verify/",
        {
            "full_name": ZHOU_XINYU.name,
            "id_type": ZHOU_XINYU.id_type,
            "id_number": ZHOU_XINYU.id_number,
            "phone": ZHOU_XINYU.phone,
        },
    )

    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.real_name_level == RealNameLevel.BASIC
    # The next newcomer is no longer offered the identity just claimed.
    client.force_login(email_user("another@example.com"))
    assert ZHOU_XINYU.name not in _hint_rows(client.get("/me/verify/").content.decode())
