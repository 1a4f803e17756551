"""Middleware of the site shell: request logs and the headers Django does not set."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation

from core.addresses import client_address
from core.errors import DomainError, NotFound

request_logger = logging.getLogger("portal.request")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

Handler = Callable[[HttpRequest], HttpResponse]


class RequestLogMiddleware:
    """Log one line per request and give every request an id.

    The id comes from an ``X-Request-ID`` set by the proxy when it is well
    formed, otherwise a new one; it is echoed in the response so a user's
    report can be found in the logs.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        request_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": request_id,
                "client": client_address(request),
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response


# The session key under which the last renewal of a session's idle timeout is noted.
SESSION_RENEWED_KEY = "_renewed_at"


class SessionRenewalMiddleware:
    """The idle timeout (``SESSION_COOKIE_AGE``) without a write on every request.

    A session read during the request is saved again, with a new expiry and
    cookie, when it changed or when it was last renewed ``SESSION_RENEWAL_SECONDS``
    or more ago; in between, requests only read it. A session therefore ends
    between ``SESSION_COOKIE_AGE - SESSION_RENEWAL_SECONDS`` and ``SESSION_COOKIE_AGE``
    after its last request. Placed right after ``SessionMiddleware``, which saves it.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or not session.accessed or session.modified or session.is_empty():
            return response
        if int(time.time()) - int(session.get(SESSION_RENEWED_KEY, 0)) >= settings.SESSION_RENEWAL_SECONDS:
            note_session_renewed(session)
        return response


def note_session_renewed(session: SessionBase) -> None:
    """Note the renewal in the session, which marks it to be saved (a login notes it too: it saves anyway)."""
    session[SESSION_RENEWED_KEY] = int(time.time())


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        return response


class ApiLanguageMiddleware:
    """The API speaks the language the client asks for (Accept-Language), Chinese by default.

    Pages carry their language in the path (/en/…); the API's paths do not, so
    LocaleMiddleware would answer every API call in the default language.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            language = translation.get_language_from_request(request, check_path=False)
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class DomainErrorMiddleware:
    """Turn a DomainError that escaped a page view into the matching page.

    The API has its own handler (JSON bodies); this one serves HTML pages.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        if isinstance(exception, NotFound):
            raise Http404(str(exception.message)) from exception
        context = {"message": exception.message, "fields": exception.fields}
        return render(request, "portal/error.html", context, status=exception.status)
