"""Anonymous service pages come from the cache; nobody signed in ever gets a shared page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from services.selectors import catalogue_changed
from tests.factories import email_user
from tests.services.builders import make_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def guide_url() -> str:
    return f"/services/{make_item().implementation_code}/"


def test_the_second_anonymous_visit_is_served_from_the_cache(guide_url):
    first = Client().get(guide_url)
    second = Client().get(guide_url)

    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
    assert second.content == first.content
    assert "结婚登记" in second.content.decode()


def test_each_language_is_kept_apart(guide_url):
    Client().get(guide_url)

    english = Client().get(f"/en{guide_url}")

    assert english["X-Page-Cache"] == "miss"
    assert 'lang="en"' in english.content.decode()


def test_a_catalogue_change_shows_at_once(guide_url):
    Client().get(guide_url)

    catalogue_changed()

    assert Client().get(guide_url)["X-Page-Cache"] == "miss"


def test_a_signed_in_visitor_never_gets_or_fills_the_shared_page(guide_url):
    client = Client()
    client.force_login(email_user("reader@example.com", last_name="周", first_name="一"))

    signed_in = client.get(guide_url)
    anonymous = Client().get(guide_url)

    logout = reverse("account_logout")
    assert "X-Page-Cache" not in signed_in
    assert logout in signed_in.content.decode()  # the header is the signed-in user's
    assert anonymous["X-Page-Cache"] == "miss"
    assert logout not in anonymous.content.decode()


class CountingCache:
    """The cache, noting the name of each call made through it."""

    def __init__(self, cache: object) -> None:
        self.cache = cache
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> object:
        self.calls.append(name)
        return getattr(self.cache, name)


@pytest.fixture
def counting_cache(monkeypatch) -> CountingCache:
    """The page cache's calls to the cache, counted."""
    from core import page_cache

    counting = CountingCache(page_cache.cache)
    monkeypatch.setattr(page_cache, "cache", counting)
    return counting


def test_a_hit_costs_one_round_trip_to_the_cache(guide_url, counting_cache, monkeypatch):
    # given
    from services import selectors

    Client().get(guide_url)
    counting_cache.calls.clear()
    monkeypatch.setattr(selectors, "cache", counting_cache)  # the catalogue's generation is read with the page
    calls = counting_cache.calls
    # when
    hit = Client().get(guide_url)
    # then: the generation and the page are read together
    assert hit["X-Page-Cache"] == "hit"
    assert calls == ["get_many"]


def test_a_hit_is_answered_without_the_database_and_with_the_page_s_headers(guide_url, django_assert_num_queries):
    miss = Client().get(guide_url)

    with django_assert_num_queries(0):
        hit = Client().get(guide_url)

    assert hit["X-Page-Cache"] == "hit"
    for header in ("Content-Type", "X-Frame-Options", "Content-Security-Policy", "Content-Language"):
        assert hit[header] == miss[header], header
    assert "Cookie" in hit["Vary"]
    assert not hit.cookies


def test_a_visitor_with_a_session_cookie_is_not_answered_from_the_cache(guide_url):
    Client().get(guide_url)
    client = Client()
    client.cookies["sessionid"] = "no-such-session"

    response = client.get(guide_url)

    assert "X-Page-Cache" not in response


def test_pages_that_are_not_kept_never_ask_the_page_cache(guide_url, counting_cache):
    calls = counting_cache.calls

    assert Client().get("/services/departments/").status_code == 200
    assert Client().get("/no-such-page/").status_code == 404
    assert calls == []
    Client().get(guide_url)
    assert calls == ["get_many", "set"]
