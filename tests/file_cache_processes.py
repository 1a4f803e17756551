"""What each process does in the shared file cache tests (a module of its own: spawned processes import it)."""

from __future__ import annotations

from typing import Any

from core.cache import SharedFileCache


def shared_cache(folder: str) -> SharedFileCache:
    return SharedFileCache(folder, {"TIMEOUT": 300})


def add_once(folder: str, barrier: Any, results: Any) -> None:
    barrier.wait()
    results.put(shared_cache(folder).add("only-one", "x", 60))


def increment(folder: str, barrier: Any, times: int) -> None:
    cache = shared_cache(folder)
    barrier.wait()
    for _ in range(times):
        cache.incr("generation")
