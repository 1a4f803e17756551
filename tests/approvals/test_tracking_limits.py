"""Tracking's guessing limits: five wrong passwords lock a number, thirty attempts an address, counted in one
round trip to Redis (or in the database without Redis), and forgotten with their window."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from django.core.cache import caches

from approvals.applications import tracking
from core import crypto, limits
from tests.approvals.builders import submitted
from tests.approvals.helpers import wrong

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("upload_root", "english")]

ADDRESS = "203.0.113.9"


def test_tracking_asks_redis_once_when_the_pair_is_right(citizen, item, monkeypatch):
    application = submitted(citizen, item)
    password = crypto.decrypt(application.query_password_encrypted)
    sent: list[str] = []
    single = redis.Redis.execute_command
    batch = redis.client.Pipeline.execute

    def count_single(self: Any, *arguments: Any, **options: Any) -> Any:
        sent.append("command")
        return single(self, *arguments, **options)

    def count_batch(self: Any, *arguments: Any, **options: Any) -> Any:
        sent.append("pipeline")
        return batch(self, *arguments, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", count_single)
    monkeypatch.setattr(redis.client.Pipeline, "execute", count_batch)

    found = tracking.track(number=application.number, password=password, address=ADDRESS)

    assert found.application is not None
    assert sent == ["pipeline"]


def test_the_counters_end_with_their_window(citizen, item, settings):
    settings.TRACK_LOCKOUT_SECONDS = 900
    application = submitted(citizen, item)
    password = crypto.decrypt(application.query_password_encrypted)

    tracking.track(number=application.number, password=wrong(password), address=ADDRESS)
    tracking.track(number=application.number, password=password, address=ADDRESS)

    backend = caches["default"]
    client = backend._cache.get_client(write=True)
    address_key = backend.make_and_validate_key(limits.stored_name(f"track:address:{ADDRESS}"))
    number_key = backend.make_and_validate_key(limits.stored_name(f"track:number:{application.number}"))
    assert [client.get(address_key), client.get(number_key)] == [b"2", b"1"]
    assert 0 < client.ttl(address_key) <= 900
    assert 0 < client.ttl(number_key) <= 900


@pytest.mark.parametrize("cache", ["redis", "no-redis"])
def test_a_number_locks_after_five_wrong_passwords_and_an_address_after_thirty_attempts(cache, citizen, item, settings):
    if cache == "no-redis":  # the counters are then rows of the database
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}}
    settings.TRACK_FAILURES_PER_NUMBER = 5
    settings.TRACK_ATTEMPTS_PER_ADDRESS = 30
    application = submitted(citizen, item)
    password = crypto.decrypt(application.query_password_encrypted)
    number = application.number or ""

    failures = [tracking.track(number=number, password=wrong(password), address=ADDRESS) for _ in range(5)]
    locked = tracking.track(number=number, password=password, address="198.51.100.7")
    other_attempts = [tracking.track(number=f"X{index}", password=password, address=ADDRESS) for index in range(24)]
    thirtieth = tracking.track(number="Y", password=password, address=ADDRESS)
    thirty_first = tracking.track(number="Z", password=password, address=ADDRESS)

    assert [(each.application, each.is_limited) for each in failures] == [(None, False)] * 5
    assert (locked.application, locked.is_limited) == (None, True)
    assert not any(each.is_limited for each in other_attempts)
    assert (thirtieth.is_limited, thirty_first.is_limited) == (False, True)
