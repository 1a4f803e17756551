"""The Redis cache keeps its redis-py client: every call borrows a connection from one pool through one client."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache, caches

from core.cache import RedisCache

pytestmark = pytest.mark.postgresql_only  # the embedded default caches in memory


def test_the_cache_is_redis_with_one_client_for_every_call() -> None:
    assert isinstance(caches["default"], RedisCache)
    backend: Any = caches["default"]
    client = backend._cache.get_client("a", write=True)

    assert backend._cache.get_client("b") is client
    assert backend._cache.get_client("c", write=True) is client


def test_the_shared_client_reads_and_writes_as_django_s_does() -> None:
    cache.set("cache-test:answer", {"value": 42}, 30)
    assert cache.add("cache-test:answer", "other", 30) is False
    assert cache.get("cache-test:answer") == {"value": 42}
    cache.set("cache-test:count", 1, 30)
    assert cache.incr("cache-test:count", 2) == 3
    assert cache.get_many(["cache-test:answer", "cache-test:count", "cache-test:none"]) == {
        "cache-test:answer": {"value": 42},
        "cache-test:count": 3,
    }
    cache.delete_many(["cache-test:answer", "cache-test:count"])
    assert cache.get("cache-test:answer", "gone") == "gone"
