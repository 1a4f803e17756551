"""A crawl of the site as one user: every link of every page reached, one URL per URL pattern.

One URL per pattern (the first link found to it), so that facet and paging links, which are endless,
do not make the crawl endless. ``tests/test_links*.py`` use it.
"""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urlsplit

from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import translation

HREF = re.compile(r'href="(/[^"#]*)"')
# Files, and the pages that end a session.
NOT_FOLLOWED = ("/static/", "/media/", "/accounts/logout/", "/en/accounts/logout/")
MOST_PAGES = 200


def crawl(client: Client, *starts: str) -> tuple[dict[str, tuple[str, int]], set[str]]:
    """Follow links from ``starts``: the links that failed ({link: (page showing it, status)}), the patterns seen."""
    queue = deque((start, "(start)") for start in starts)
    seen_patterns: set[str] = set()
    broken: dict[str, tuple[str, int]] = {}
    while queue and len(seen_patterns) < MOST_PAGES:
        link, shown_on = queue.popleft()
        pattern = _pattern(urlsplit(link).path)
        if pattern is None:
            broken[link] = (shown_on, 404)
            continue
        if pattern in seen_patterns:
            continue
        seen_patterns.add(pattern)
        response = client.get(link)
        if response.status_code >= 400:
            broken[link] = (shown_on, response.status_code)
            continue
        if response.status_code >= 300 or "text/html" not in response.get("Content-Type", ""):
            continue
        for found in HREF.findall(response.content.decode()):
            found = found.replace("&amp;", "&")
            if not found.startswith(NOT_FOLLOWED):
                queue.append((found, link))
    return broken, seen_patterns


def _pattern(path: str) -> str | None:
    """The URL pattern ``path`` resolves to (English pages live under /en/), or None."""
    english = path == "/en/" or path.startswith("/en/")
    try:
        with translation.override("en" if english else "zh-hans"):
            return resolve(path).route
    except Resolver404:
        return None
