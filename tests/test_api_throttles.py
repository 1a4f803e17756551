"""API rate limits: anonymous callers by address at the ``anon`` rate, signed-in ones by user at the ``user`` rate."""

from __future__ import annotations

import pytest
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
