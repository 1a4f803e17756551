"""API rate limits: anonymous callers by address at the ``anon`` rate, signed-in ones by user at the ``user`` rate."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.core.cache import caches
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def low_rates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/minute", "user": "2/minute"})


def statuses(client: APIClient, count: int) -> list[int]:
    return [client.get("/api/v1/services/").status_code for _ in range(count)]


def test_an_anonymous_caller_is_held_to_the_anon_rate_only() -> None:
    # Not to the (here lower) user rate as well: DRF's user throttle would count the address a second time.
    assert statuses(APIClient(), 4) == [200, 200, 200, 429]


def test_a_signed_in_caller_is_held_to_the_user_rate_not_the_anon_one(citizen: User) -> None:
    client = APIClient()
    client.force_authenticate(citizen)

    assert statuses(client, 3) == [200, 200, 429]
    assert statuses(APIClient(), 3) == [200, 200, 200]  # the same address, anonymous: counted on its own


class Timer:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.postgresql_only  # Redis: the embedded default keeps DRF's own list in memory
def test_the_window_slides_and_refusals_are_not_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    timer = Timer()
    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: timer())
    client = APIClient()
    assert statuses(client, 2) == [200, 200]
    timer.now += 40
    assert statuses(client, 1) == [200]  # three in the last minute: the rate

    refused = client.get("/api/v1/services/")
    timer.now += 10
    still = client.get("/api/v1/services/")

    assert (refused.status_code, refused["Retry-After"]) == (429, "20")  # the first two leave at 60 s
    assert (still.status_code, still["Retry-After"]) == (429, "10")
    timer.now += 10
    assert statuses(client, 3) == [200, 200, 429]  # the first two left; the refusals took no place
    key = caches["default"].make_and_validate_key("throttle_anon_127.0.0.1:log")
    assert redis.Redis.from_url(str(settings.REDIS_URL)).zcard(key) == 3  # the allowed ones, none refused
