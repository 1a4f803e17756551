"""The client's address: one rule for every limit, lock-out and log line.

Behind ``TRUSTED_PROXY_COUNT`` reverse proxies, each appends the address it was
reached from to ``X-Forwarded-For``; the entry the nearest trusted proxy wrote is
the first one nobody could forge, so it is read from the right. Without proxies
(the count is 0) the header is anybody's to write and only the socket counts.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

_ATTRIBUTE = "_client_address"


def client_address(request: HttpRequest) -> str:
    """The address of the client that sent ``request``, by ``TRUSTED_PROXY_COUNT`` (kept on the request)."""
    known = getattr(request, _ATTRIBUTE, None)
    if known is not None:
        return str(known)
    address = _address_of(request, settings.TRUSTED_PROXY_COUNT)
    setattr(request, _ATTRIBUTE, address)
    return address


def _address_of(request: HttpRequest, trusted_proxies: int) -> str:
    socket_address = _clean(str(request.META.get("REMOTE_ADDR", ""))) or "unknown"
    if trusted_proxies <= 0:
        return socket_address
    forwarded = [entry.strip() for entry in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    forwarded = [entry for entry in forwarded if entry]
    if len(forwarded) < trusted_proxies:
        # A request that reached the web server around the proxies, or a proxy that does not set the header:
        # the socket is all that is known.
        return socket_address
    return _clean(forwarded[-trusted_proxies]) or socket_address


def _clean(text: str) -> str:
    """The address in its canonical form, or "" when ``text`` is not one (a port or brackets are dropped)."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]  # IPv4 with a port
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return ""
