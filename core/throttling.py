"""The API's rate limits: DRF's rates and sliding window, kept in Redis so that a request costs one round trip.

Its own module: ``rest_framework.views`` reads ``DEFAULT_THROTTLE_CLASSES`` when it
is imported, so these classes must not live in a module that imports it.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from rest_framework import throttling as drf_throttling
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from core import limits
from core.addresses import client_address
from core.cache import redis_client

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
    request: its cost grows with the rate, and two processes at once lose each
    other's requests. On Redis the times are a sorted set that a script trims,
    counts and adds to in one round trip; without Redis (the embedded setup) a
    fixed window is counted in the database (``core.limits``).
    """

    num_requests: int  # set by DRF from the rate
    duration: int

    def get_ident(self, request: Any) -> str:
        """The client's address as every limit reads it (``TRUSTED_PROXY_COUNT``), not DRF's own reading."""
        return client_address(request)

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        client = redis_client()
        if client is None:
            return self._allow_by_shared_counter(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        key = caches[DEFAULT_CACHE_ALIAS].make_and_validate_key(f"{self.key}:log")
        script = _scripts.get(id(client))
        if script is None:
            script = _scripts[id(client)] = client.register_script(_SLIDING_LOG)
        allowed, oldest = script(keys=[key], args=[self.now, self.duration, self.num_requests, secrets.token_hex(8)])
        self.oldest = None if allowed else float(oldest)
        return bool(allowed)

    def _allow_by_shared_counter(self, request: Any, view: Any) -> bool:
        """Without Redis: a fixed window counted in the database, which every process of the embedded setup shares.

        (DRF's own way keeps the request times in the cache, read and written whole: two processes at once
        would each count without the other.)
        """
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        counted, _ = limits.count(self.key, window=self.duration)
        self.retry_after: float | None = counted.seconds_left if counted.value > self.num_requests else None
        return self.retry_after is None

    def wait(self) -> float | None:
        """Seconds until a request will be allowed again (the ``Retry-After`` of a refusal)."""
        retry_after: float | None = getattr(self, "retry_after", None)
        if retry_after is not None:
            return retry_after
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

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return super().get_cache_key(request, view)
