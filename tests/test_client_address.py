"""One reading of the client's address, by TRUSTED_PROXY_COUNT, for every limit and the request log."""

from __future__ import annotations

import logging

import pytest
from allauth.account.adapter import get_adapter
from django.test import RequestFactory
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from core.addresses import client_address

pytestmark = pytest.mark.django_db


def request_from(socket: str, forwarded: str | None = None):
    request = RequestFactory().get("/", REMOTE_ADDR=socket)
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


@pytest.mark.parametrize(
    ("proxies", "socket", "forwarded", "expected"),
    [
        (0, "203.0.113.7", None, "203.0.113.7"),
        (0, "203.0.113.7", "10.0.0.1", "203.0.113.7"),  # no proxy: the header is the client's own word
        (1, "192.0.2.1", "198.51.100.9", "198.51.100.9"),
        (1, "192.0.2.1", "10.0.0.1, 198.51.100.9", "198.51.100.9"),  # what the client wrote itself is left of it
        (1, "192.0.2.1", None, "192.0.2.1"),  # the proxy set nothing: the socket is all there is
        (1, "192.0.2.1", "not-an-address", "192.0.2.1"),
        (1, "192.0.2.1", "198.51.100.9:53211", "198.51.100.9"),
        (1, "192.0.2.1", "[2001:db8::5]:443", "2001:db8::5"),
        (2, "192.0.2.1", "10.0.0.1, 198.51.100.9, 192.0.2.50", "198.51.100.9"),
        (2, "192.0.2.1", "192.0.2.50", "192.0.2.1"),  # fewer entries than proxies: never a 500
    ],
)
def test_the_address_is_the_rightmost_untrusted_entry(settings, proxies, socket, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies

    assert client_address(request_from(socket, forwarded)) == expected


@pytest.fixture
def low_anonymous_rate(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/minute", "user": "100/minute"})


def get_services(client: APIClient, forwarded: str) -> int:
    return client.get("/api/v1/services/", HTTP_X_FORWARDED_FOR=forwarded).status_code


@pytest.mark.usefixtures("low_anonymous_rate")
def test_without_a_proxy_a_forged_header_does_not_reset_the_api_limit(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    client = APIClient()

    statuses = [get_services(client, f"10.0.0.{number}") for number in range(1, 6)]

    assert statuses == [200, 200, 200, 429, 429]


@pytest.mark.usefixtures("low_anonymous_rate")
def test_behind_a_proxy_each_client_has_its_own_api_limit(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client = APIClient()  # every request comes from the proxy's socket

    first = [get_services(client, "198.51.100.1") for _ in range(4)]
    second = [get_services(client, "198.51.100.2") for _ in range(3)]
    forged = get_services(client, "10.9.9.9, 198.51.100.1")  # a client's own entry in front changes nothing

    assert first == [200, 200, 200, 429]
    assert second == [200, 200, 200]
    assert forged == 429


@pytest.mark.parametrize("proxies", [0, 1])
def test_tracking_counts_attempts_per_client_address(settings, proxies):
    settings.TRUSTED_PROXY_COUNT = proxies
    settings.TRACK_ATTEMPTS_PER_ADDRESS = 2
    client = APIClient()

    def attempt(forwarded: str) -> int:
        body = {"number": "NOSUCHNUMBER2026", "password": "123456"}
        return client.post("/api/v1/track/", body, format="json", HTTP_X_FORWARDED_FOR=forwarded).status_code

    first = [attempt("198.51.100.1") for _ in range(3)]
    other = attempt("198.51.100.2")

    assert first == [404, 404, 429]
    # Without a proxy both are the same socket; behind one they are two people.
    assert other == (404 if proxies else 429)


def test_allauth_reads_the_same_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = request_from("192.0.2.1", "10.0.0.1, 198.51.100.9")

    assert get_adapter(request).get_client_ip(request) == "198.51.100.9"


def test_the_request_log_names_the_client(settings, client, caplog):
    settings.TRUSTED_PROXY_COUNT = 1
    caplog.set_level(logging.INFO, logger="portal.request")

    client.get("/healthz", HTTP_X_FORWARDED_FOR="198.51.100.9", REMOTE_ADDR="192.0.2.1")

    record = next(record for record in caplog.records if record.name == "portal.request")
    assert record.client == "198.51.100.9"
