"""The account page (/me/) shows the sections apps above accounts add, without accounts importing them."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpRequest

from accounts.account_page import AccountSection, account_page_sections
from accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def connected() -> Iterator[list[object]]:
    """Handlers a test connects, disconnected afterwards."""
    handlers: list[object] = []
    yield handlers
    for handler in handlers:
        account_page_sections.disconnect(handler)  # type: ignore[arg-type]


@pytest.fixture
def section_template(settings: Any, tmp_path: Path) -> str:
    """A template of a section, as another app would have in its templates folder."""
    (tmp_path / "test_section.html").write_text('<p id="test-section">{{ greeting }}</p>', encoding="utf-8")
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [*templates[0]["DIRS"], tmp_path]
    settings.TEMPLATES = templates
    return "test_section.html"


def test_a_connected_section_is_shown_with_its_context_after_the_others(client, citizen, connected, section_template):
    seen: list[tuple[str, int]] = []

    def greeting(request: HttpRequest, user: User) -> AccountSection:
        seen.append((request.path, user.pk))
        return AccountSection(section_template, {"greeting": "你好"})

    connected.append(account_page_sections.connect(greeting))
    client.force_login(citizen)

    body = client.get("/me/").content.decode()

    assert seen == [("/me/", citizen.pk)]
    assert '<p id="test-section">你好</p>' in body
    assert body.index('id="messages-link"') < body.index('id="test-section"')


def test_a_section_that_has_nothing_to_show_shows_nothing(client, citizen, connected):
    connected.append(account_page_sections.connect(lambda request, user: None))
    client.force_login(citizen)

    response = client.get("/me/")

    assert response.status_code == 200
    assert response.content.decode().count('id="messages-link"') == 1


def test_the_account_page_shows_the_latest_applications_then_the_messages_link(client, citizen):
    client.force_login(citizen)

    body = client.get("/me/").content.decode()

    assert body.count('id="my-applications"') == 1
    assert body.index('id="my-applications"') < body.index('id="messages-link"') < body.index('id="enterprises"')
