"""Whole pages that read the same for every anonymous visitor, kept in the cache (Redis in production).

A page is kept under its path (with the query) and its language, with the
generation number it was rendered under. The data behind it bumps the number
when it changes (the catalogue's, for the service pages) and a page kept under
an older number is not served, so a publication shows at once and nothing needs
deleting. Only anonymous visitors without a session or pending messages get or
fill it: a signed-in page names its user and must never be shared.
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


def cache_public_page(generation_key: str, generation: Callable[[], int]) -> Callable[[View], View]:
    """Decorate a page view whose anonymous response depends only on its URL, language and a generation number.

    ``generation_key`` is the cache key of the number, which the data behind the
    page bumps when it changes; ``generation()`` reads it and creates it when
    missing. A kept page carries the number it was rendered under, and a hit
    costs one round trip to the cache: the number and the page are read together.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not _is_shareable(request):
                return view(request, *args, **kwargs)
            digest = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
            key = f"page:{view.__module__}.{view.__name__}:{get_language()}:{digest}"
            found = cache.get_many([generation_key, key])
            current = found.get(generation_key)
            kept = found.get(key)
            if current is not None and kept is not None and kept[0] == current:
                _generation, content, content_type = kept
                hit = HttpResponse(content, content_type=content_type)
                hit["X-Page-Cache"] = "hit"
                return hit
            if current is None:
                current = generation()
            response = view(request, *args, **kwargs)
            if isinstance(response, HttpResponse) and _is_plain(request, response):
                cache.set(key, (current, response.content, response["Content-Type"]), PAGE_CACHE_SECONDS)
                response["X-Page-Cache"] = "miss"
            return response

        return wrapper

    return decorate
