"""What every API view shares: the error body, the pagination styles.

Errors of /api/v1/ are always ``{"code": "...", "message": "...", "fields": {...}}``
with the right status; lists are ``{"results": [...], "next": url|null, "previous": url|null}``.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework import throttling as drf_throttling
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle
from rest_framework.views import exception_handler as drf_exception_handler

from portal.errors import DomainError


def _fields(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {
            key: [str(message) for message in (value if isinstance(value, list) else [value])]
            for key, value in detail.items()
        }
    return {}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Give every API error the one body shape, with a translated message."""
    if isinstance(exc, DomainError):
        body = {"code": exc.code, "message": str(exc.message), "fields": exc.fields}
        return Response(body, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = {"code": "invalid", "message": _("Some values are not valid."), "fields": _fields(exc.detail)}
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        message = str(detail) if not isinstance(detail, dict | list) else _("The request could not be handled.")
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        body = {"code": str(code), "message": message, "fields": _fields(detail) if isinstance(detail, dict) else {}}
    else:  # pragma: no cover - DRF handles only APIException and Http404/PermissionDenied
        body = {"code": "error", "message": str(exc), "fields": {}}
    response.data = body
    return response


class StableCursorPagination(CursorPagination):
    """Cursor pagination over a stable key: the default for plain lists."""

    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"
    ordering = "pk"


# One round trip, atomic: drop what left the window, count what is in it, and note this request when allowed.
# Returns {1, 0} when allowed, {0, the oldest request's time} when not (so the caller can say when to retry).
_SLIDING_LOG = """
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then
    return {0, redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]}
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('EXPIRE', key, math.ceil(window))
return {1, 0}
"""


_scripts: dict[int, Any] = {}  # the script, registered once per Redis client


class _SlidingLogOnRedis(SimpleRateThrottle):
    """DRF's sliding window (every allowed request's time, for the rate's duration), kept in Redis.

    DRF keeps the times as one list in the cache, read and written whole by every
    request: its cost grows with the rate. On Redis the times are a sorted set that
    a script trims, counts and adds to in one round trip; elsewhere (the embedded
    setup's in-memory cache) DRF's own way is used.
    """

    num_requests: int  # set by DRF from the rate
    duration: int

    def allow_request(self, request: Any, view: Any) -> bool:
        backend = caches[DEFAULT_CACHE_ALIAS]
        if self.rate is None or not isinstance(backend, RedisCache):
            return bool(super().allow_request(request, view))
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        key = backend.make_and_validate_key(f"{self.key}:log")
        client = backend._cache.get_client(key, write=True)  # type: ignore[attr-defined]  # Django's own client
        script = _scripts.get(id(client))
        if script is None:
            script = _scripts[id(client)] = client.register_script(_SLIDING_LOG)
        allowed, oldest = script(keys=[key], args=[self.now, self.duration, self.num_requests, secrets.token_hex(8)])
        self.oldest = None if allowed else float(oldest)
        return bool(allowed)

    def wait(self) -> float | None:
        """Seconds until the oldest request in the window leaves it (the ``Retry-After`` of a refusal)."""
        oldest: float | None = getattr(self, "oldest", None)
        if oldest is None:
            return super().wait()
        return max(0.0, self.duration - (self.now - oldest))


class AnonRateThrottle(_SlidingLogOnRedis, drf_throttling.AnonRateThrottle):
    """The ``anon`` rate, per client address."""


class SignedInRateThrottle(_SlidingLogOnRedis, UserRateThrottle):
    """The ``user`` rate, for signed-in callers only: anonymous ones are counted by ``AnonRateThrottle`` alone.

    DRF's ``UserRateThrottle`` counts an anonymous caller by address too, a second
    time and at the looser rate: more cache round trips that limit nothing.
    """

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return super().get_cache_key(request, view)
