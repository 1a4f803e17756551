"""The site shell: language, layout landmarks, security headers, query counts."""

import re

import pytest

from tests.helpers import assert_query_count, get_counting_queries

# The embedded default (SQLite) must behave the same.
pytestmark = pytest.mark.both_databases


@pytest.mark.django_db
def test_home_is_chinese_by_default_whatever_the_browser_asks(client):
    response, queries = get_counting_queries(client, "/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-Hans">' in body
    assert '<h1 id="hero-title">政务服务，一网通办</h1>' in body
    assert '<a class="skip-link" href="#main">跳到主要内容</a>' in body
    # An anonymous page touches no table: it can be cached and served fast.
    assert_query_count(queries, 0)


@pytest.mark.django_db
def test_home_in_english_under_en(client):
    response = client.get("/en/")
    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in body
    assert "Every government service, in one place" in body
    assert "政务服务，一网通办" not in body


@pytest.mark.django_db
def test_language_switcher_is_plain_links_to_the_same_page(client):
    chinese = client.get("/").content.decode()
    english = client.get("/en/").content.decode()
    assert re.search(r'<a href="/en/" lang="en" hreflang="en">English</a>', chinese)
    assert re.search(r'<a href="/" lang="zh-hans" hreflang="zh-hans">简体中文</a>', english)
    # No form, so no CSRF token and no cookie: the page stays cacheable.
    assert "csrfmiddlewaretoken" not in chinese
    assert not client.get("/").cookies


@pytest.mark.django_db
def test_header_links_follow_the_language(client):
    chinese = client.get("/").content.decode()
    english = client.get("/en/").content.decode()
    assert 'href="/services/?audience=person">个人办事</a>' in chinese
    assert 'href="/en/services/?audience=enterprise">Services for enterprises</a>' in english
    for landmark in ("<header", "<nav", '<main id="main"', "<footer"):
        assert landmark in chinese


@pytest.mark.django_db
def test_security_headers_on_every_page(client):
    response = client.get("/")
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_request_id_is_kept_when_well_formed_and_replaced_otherwise(client):
    kept = client.get("/", HTTP_X_REQUEST_ID="lb-1234.abc")
    replaced = client.get("/", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert kept.headers["X-Request-ID"] == "lb-1234.abc"
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["X-Request-ID"])


@pytest.mark.django_db
def test_unknown_page_is_a_translated_404(client):
    chinese = client.get("/no-such-page/")
    english = client.get("/en/no-such-page/")
    assert chinese.status_code == 404
    assert "页面不存在" in chinese.content.decode()
    assert english.status_code == 404
    assert "Page not found" in english.content.decode()


@pytest.mark.django_db
def test_home_refuses_post(client):
    assert client.post("/").status_code == 405
