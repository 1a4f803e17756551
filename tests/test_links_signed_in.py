"""No page links to a page that does not exist: the site crawled as a citizen with an application, and its clerk."""

from __future__ import annotations

import pytest

from accounts.models import User
from services.models import ServiceItem
from tests.approvals.builders import submitted
from tests.approvals.helpers import route
from tests.approvals.workbench.helpers import client_of
from tests.crawling import crawl

pytestmark = pytest.mark.django_db


@pytest.fixture
def application_routed(citizen: User, item: ServiceItem) -> None:
    """The citizen's application, submitted and routed: its 受理 task waits in the clerk's queue."""
    submitted(citizen, item)
    route()


def test_a_citizen_reaches_no_missing_page(application_routed, citizen):
    broken, patterns = crawl(client_of(citizen, totp=False), "/", "/me/")

    assert broken == {}
    assert {"me/", "me/applications/<str:number>/", "me/messages/<int:message_id>/", "accounts/sessions/"} <= patterns


def test_a_clerk_reaches_no_missing_page(application_routed, clerk):
    broken, patterns = crawl(client_of(clerk), "/", "/workbench/")

    assert broken == {}
    assert {"workbench/tasks/<int:task_id>/", "workbench/counter/", "en/workbench/"} <= patterns
