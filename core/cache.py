"""The cache backends: Django's Redis cache keeping one client per pool, and the embedded setup's shared file cache.

Django's Redis cache, keeping one redis-py client per connection pool.

Django's own client builds a new ``redis.Redis`` object for every cache call,
which costs about as much as the round trip itself (its response callbacks are
set up again each time). The client object only borrows connections from the
pool, and redis-py's clients are safe to share between threads, so each
process keeps one per pool.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
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


class SharedFileCache(FileBasedCache):
    """Django's file cache under ``var/``, shared by every process of the embedded setup, with atomic add and incr.

    Django's file cache checks and then writes (``add``) and reads and then writes
    (``incr``, which also drops the entry's expiry): two processes can both win an
    ``add``, and an ``incr`` can lose another's. Here both run under one lock file,
    as Redis runs them one at a time, and ``incr`` keeps the expiry it found. (Limits
    count in ``core.limits``, which does not use the cache on this setup.)
    """

    def __init__(self, dir: str, params: dict[str, Any]) -> None:
        super().__init__(dir, params)
        self._folder = os.path.abspath(dir)  # Django keeps it as _dir, which its stubs do not name
        self._lock_path = os.path.join(self._folder, "cache.lock")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self._createdir()  # type: ignore[attr-defined]  # Django's, not in its stubs
        with open(self._lock_path, "a+b") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        with self._locked():
            return bool(super().add(key, value, timeout, version))

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        with self._locked():
            path = self._key_to_file(key, version)  # type: ignore[attr-defined]  # Django's, not in its stubs
            try:
                with open(path, "rb") as file:
                    expiry = pickle.load(file)  # noqa: S301  # the cache's own files, as Django reads them
                    if expiry is not None and expiry < time.time():
                        raise FileNotFoundError(path)
                    value = pickle.loads(zlib.decompress(file.read()))  # noqa: S301
            except FileNotFoundError:
                raise ValueError(f"Key '{key}' not found") from None
            value += delta
            descriptor, partial = tempfile.mkstemp(dir=self._folder)
            with open(descriptor, "wb") as file:
                file.write(pickle.dumps(expiry, self.pickle_protocol))
                file.write(zlib.compress(pickle.dumps(value, self.pickle_protocol)))
            os.replace(partial, path)
            return value
