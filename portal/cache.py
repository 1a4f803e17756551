"""Django's Redis cache, keeping one redis-py client per connection pool.

Django's own client builds a new ``redis.Redis`` object for every cache call,
which costs about as much as the round trip itself (its response callbacks are
set up again each time). The client object only borrows connections from the
pool, and redis-py's clients are safe to share between threads, so each
process keeps one per pool.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _SharedClients(RedisCacheClient):
    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # Django's, not in its stubs
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class RedisCache(DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with a client kept per pool (the same options)."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _SharedClients


def redis_client(alias: str = DEFAULT_CACHE_ALIAS) -> Any | None:
    """The redis-py client behind a cache (None when it is not on Redis), shared as the cache's own calls share it.

    For what needs several commands in one round trip, a pipeline or a script; keys
    are made with the cache's ``make_and_validate_key``.
    """
    backend = caches[alias]
    if not isinstance(backend, DjangoRedisCache):
        return None
    return backend._cache.get_client(write=True)  # type: ignore[attr-defined]  # Django's own client, not public
