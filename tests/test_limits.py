"""Limit counters and the embedded setup's shared cache: atomic for every process, on Redis and without it."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest
from django.db import connection

from core import limits
from core.models import RateCounter
from tests.file_cache_processes import add_once, increment, shared_cache

pytestmark = pytest.mark.django_db

NO_REDIS = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "limits"}}


@pytest.fixture(params=["redis", "database"])
def backend(request, settings) -> str:
    if request.param == "database":
        settings.CACHES = NO_REDIS
    return request.param


@pytest.mark.both_databases
def test_a_counter_counts_within_its_window_and_reads_another(backend):
    first, _ = limits.count("login:alice", window=60)
    second, _ = limits.count("login:alice", window=60)
    limits.count("login:bob", window=60)
    third, bobs = limits.count("login:alice", window=60, also_read="login:bob")

    assert [first.value, second.value, third.value, bobs] == [1, 2, 3, 1]
    assert 55 < third.seconds_left <= 60
    assert limits.peek("login:alice") == 3
    assert limits.peek("login:nobody") == 0
    limits.clear("login:alice")
    assert limits.peek("login:alice") == 0


@pytest.mark.both_databases
@pytest.mark.both_databases
def test_any_name_is_kept_whatever_the_client_sent(backend):
    name = "track:number:" + "办件 \x00\ud800" * 100  # spaces, Chinese, control characters, 600 characters

    counted, _ = limits.count(name, window=60)

    assert counted.value == 1
    assert limits.peek(name) == 1


def test_a_counter_starts_again_when_its_window_ended(settings, monkeypatch):
    settings.CACHES = NO_REDIS
    now = [1_800_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    limits.count("k", window=60)
    limits.count("k", window=60)

    now[0] += 61
    again, _ = limits.count("k", window=60)

    assert again.value == 1
    assert again.seconds_left == 60
    assert RateCounter.objects.get(name=limits.stored_name("k")).expires_at == now[0] + 60
    now[0] += 61
    assert limits.sweep_expired() == 1
    assert not RateCounter.objects.exists()


@pytest.mark.postgresql_only  # threads with their own connections
@pytest.mark.parametrize("backend", ["redis", "database"], indirect=True)
def test_counting_at_once_loses_no_count(backend, transactional_db):
    threads_count = 12
    start = threading.Barrier(threads_count)
    values: list[int] = []

    def hit() -> None:
        start.wait()
        for _ in range(5):
            values.append(limits.count("busy", window=60)[0].value)
        connection.close()

    threads = [threading.Thread(target=hit) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(values) == list(range(1, threads_count * 5 + 1))  # each count seen once: none lost


# --- The embedded setup's shared file cache, used by several processes at once. ---


def _processes(target, *args, count: int = 6) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(count)
    processes = [context.Process(target=target, args=(*args[:1], barrier, *args[1:])) for _ in range(count)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0


def test_only_one_process_wins_an_add(tmp_path):
    results = multiprocessing.get_context("spawn").Queue()

    _processes(add_once, str(tmp_path), results)

    assert sorted(results.get(timeout=5) for _ in range(6)) == [False] * 5 + [True]


def test_increments_from_several_processes_all_count(tmp_path):
    shared_cache(str(tmp_path)).set("generation", 1, None)

    _processes(increment, str(tmp_path), 20)

    assert shared_cache(str(tmp_path)).get("generation") == 1 + 6 * 20


def test_an_increment_keeps_the_expiry(tmp_path, monkeypatch):
    cache = shared_cache(str(tmp_path))
    cache.set("forever", 1, None)
    cache.set("brief", 1, 30)

    assert cache.incr("forever") == 2
    assert cache.incr("brief") == 2
    monkeypatch.setattr(time, "time", lambda: time.monotonic() + 10**10)  # far later
    assert cache.get("forever") == 2
    assert cache.get("brief") is None
    with pytest.raises(ValueError, match="not found"):
        cache.incr("brief")
