"""The idle timeout: a session in use is saved again once a minute, not on every request."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import User
from portal import middleware

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    pinned = Clock()
    real = middleware.time
    monkeypatch.setattr(middleware, "time", SimpleNamespace(time=pinned.time, perf_counter=real.perf_counter))
    return pinned


def expiry(client: Client) -> datetime.datetime:
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_a_session_is_renewed_once_a_minute_while_it_is_used(citizen: User, clock: Clock, settings) -> None:
    assert settings.SESSION_RENEWAL_SECONDS == 60
    client = Client()
    client.force_login(citizen)  # the login saves the session and notes it renewed
    at_login = expiry(client)

    first = client.get("/me/")
    clock.now += 59
    within = client.get("/me/")

    assert first.status_code == within.status_code == 200
    for response in (first, within):
        assert settings.SESSION_COOKIE_NAME not in response.cookies  # nothing saved, nothing sent
    assert expiry(client) == at_login

    clock.now += 1
    later = client.get("/me/")

    assert settings.SESSION_COOKIE_NAME in later.cookies
    assert expiry(client) > at_login
    assert client.session[middleware.SESSION_RENEWED_KEY] == int(clock.now)


def test_an_anonymous_visit_makes_no_session(clock: Clock, settings) -> None:
    response = Client().get("/services/")

    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert not Session.objects.exists()
