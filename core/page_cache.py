"""Whole pages that read the same for every anonymous visitor, kept in the cache (Redis in production).

A page is kept under its path (with the query) and its language, with the
generation number it was rendered under. The data behind it bumps the number
when it changes (the catalogue's, for the service pages) and a page kept under
an older number is not served, so a publication shows at once and nothing needs
deleting. Only anonymous visitors without a session or pending messages get or
fill it: a signed-in page names its user and must never be shared.

Two parts: ``cache_public_page`` marks a view's anonymous responses as shareable
(and under which generation), and ``PageCacheMiddleware``, early in the stack
(right after the language is known), keeps them and answers a hit itself, with
one round trip to the cache and none of the middleware that a page for nobody in
particular does not need (sessions, CSRF, users, messages, URL resolving). What
those middleware added to the page (``X-Frame-Options``, …) is kept with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import Resolver404, resolve
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language

View = Callable[..., HttpResponseBase]
PAGE_CACHE_SECONDS = 300
# The cache keys of the generation numbers that pages depend on (each decorated view registers its own).
GENERATION_KEYS: set[str] = set()
# Headers not kept with a page: the per-response ones, and what the hit sets itself.
_NOT_KEPT = {"set-cookie", "x-page-cache", "content-length", "date"}


def _is_shareable(request: HttpRequest) -> bool:
    return (
        request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def _is_plain(request: HttpRequest, response: HttpResponseBase) -> bool:
    """A page nobody signed in to that set nothing for this visitor: no cookie, no session, no CSRF token."""
    session = getattr(request, "session", None)
    user = getattr(request, "user", None)
    return (
        isinstance(response, HttpResponse)
        and response.status_code == 200
        and not response.cookies
        and not (session is not None and session.modified)
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not (user is not None and user.is_authenticated)
    )


@lru_cache(maxsize=4096)
def _is_kept_path(path: str) -> bool:
    """Whether the view of this path is one whose pages are kept: other requests never ask the cache."""
    try:
        return getattr(resolve(path).func, "keeps_public_page", False) is True
    except Resolver404:
        return False


def _page_key(request: HttpRequest) -> str:
    digest = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
    return f"page:{get_language()}:{digest}"


class PageCacheMiddleware:
    """Answer an anonymous visitor from the cache; keep the pages ``cache_public_page`` marks."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not (_is_shareable(request) and _is_kept_path(request.path_info)):
            return self.get_response(request)
        key = _page_key(request)
        found = cache.get_many([key, *GENERATION_KEYS])
        kept = found.get(key)
        if isinstance(kept, tuple) and len(kept) == 4:
            generation_key, generation, content, headers = kept
            if found.get(generation_key) == generation:
                return _hit(content, headers)
        request.page_cache_generations = found  # type: ignore[attr-defined]  # read by the decorator
        response = self.get_response(request)
        marked: tuple[str, int] | None = getattr(response, "page_cache_generation", None)
        if marked is not None and isinstance(response, HttpResponse) and _is_plain(request, response):
            headers = {name: value for name, value in response.items() if name.lower() not in _NOT_KEPT}
            cache.set(key, (*marked, response.content, headers), PAGE_CACHE_SECONDS)
            response["X-Page-Cache"] = "miss"
        return response


def _hit(content: bytes, headers: dict[str, str]) -> HttpResponse:
    hit = HttpResponse(content, headers=headers)
    hit["X-Page-Cache"] = "hit"
    # Who sends a session cookie gets another page: caches between us and the visitor must know.
    patch_vary_headers(hit, ["Cookie"])
    return hit


def cache_public_page(generation_key: str, generation: Callable[[], int]) -> Callable[[View], View]:
    """Decorate a page view whose anonymous response depends only on its URL, language and a generation number.

    ``generation_key`` is the cache key of the number, which the data behind the
    page bumps when it changes; ``generation()`` reads it and creates it when
    missing. The number is read before the page is rendered, so a change made
    while it renders leaves the page stale only until the next request.
    """
    GENERATION_KEYS.add(generation_key)

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not _is_shareable(request):
                return view(request, *args, **kwargs)
            known: dict[str, Any] = getattr(request, "page_cache_generations", {})
            current = known.get(generation_key)
            if current is None:
                current = generation()
            response = view(request, *args, **kwargs)
            response.page_cache_generation = (generation_key, current)  # type: ignore[attr-defined]
            return response

        wrapper.keeps_public_page = True  # type: ignore[attr-defined]
        return wrapper

    return decorate
