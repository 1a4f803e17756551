"""No page links to a page that does not exist: the demo catalogue crawled as an anonymous visitor."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.crawling import crawl

pytestmark = pytest.mark.django_db


def test_anonymous_reaches_no_missing_page(seeded):
    broken, patterns = crawl(Client(), "/", "/en/")

    assert broken == {}
    assert {"services/themes/", "services/themes/<slug:slug>/", "services/<str:code>/"} <= patterns
