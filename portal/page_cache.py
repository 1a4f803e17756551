"""Whole pages that read the same for every anonymous visitor, kept in the cache (Redis in production).

A page is kept under its path (with the query), its language and a generation
number that the data behind it bumps when it changes (the catalogue's, for the
service pages), so a publication shows at once and nothing needs deleting. Only
anonymous visitors without a session or pending messages get or fill it: a
signed-in page names its user and must never be shared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import get_language

View = Callable[..., HttpResponseBase]
PAGE_CACHE_SECONDS = 300


def _is_shareable(request: HttpRequest) -> bool:
    return (
        request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def _is_plain(request: HttpRequest, response: HttpResponseBase) -> bool:
    """A page nobody signed in to that set nothing for this visitor: no cookie, no session, no CSRF token."""
    session = getattr(request, "session", None)
    return (
        isinstance(response, HttpResponse)
        and response.status_code == 200
        and not response.cookies
        and not (session is not None and session.modified)
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not request.user.is_authenticated
    )


def cache_public_page(generation: Callable[[], int | str]) -> Callable[[View], View]:
    """Decorate a page view whose anonymous response depends only on its URL, language and ``generation()``."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not _is_shareable(request):
                return view(request, *args, **kwargs)
            digest = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
            key = f"page:{view.__module__}.{view.__name__}:{generation()}:{get_language()}:{digest}"
            kept = cache.get(key)
            if kept is not None:
                content, content_type = kept
                hit = HttpResponse(content, content_type=content_type)
                hit["X-Page-Cache"] = "hit"
                return hit
            response = view(request, *args, **kwargs)
            if isinstance(response, HttpResponse) and _is_plain(request, response):
                cache.set(key, (response.content, response["Content-Type"]), PAGE_CACHE_SECONDS)
                response["X-Page-Cache"] = "miss"
            return response

        return wrapper

    return decorate
