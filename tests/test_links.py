"""No page links to a page that does not exist: every link of the home page and of the site's menu answers."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db

HREF = re.compile(r'href="(/[^"#]*)"')


def test_every_link_of_the_home_page_and_the_menu_leads_to_a_page(client):
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    links = sorted(set(HREF.findall(home.content.decode())) - {"/"})

    assert home.status_code == 200
    assert "/services/themes/" in links  # the menu was read
    broken = {}
    for link in links:
        status = client.get(link.replace("&amp;", "&")).status_code
        if status >= 400:
            broken[link] = status
    assert broken == {}
