"""What every API view shares: the error body, the pagination styles.

Errors of /api/v1/ are always ``{"code": "...", "message": "...", "fields": {...}}``
with the right status; lists are ``{"results": [...], "next": url|null, "previous": url|null}``.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import resolve
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError, TooManyAttempts
from core.input_guards import SESSION_TOKEN_INVALID, api_error


class ErrorSerializer(serializers.Serializer[Any]):
    """The error body of every /api/v1/ endpoint (documentation only)."""

    code = serializers.CharField()
    message = serializers.CharField()
    # Declared fields leave the class body, so this shadows Serializer.fields in the type stubs only.
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))  # type: ignore[assignment]


def query_parameters(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    """A list's query parameters checked by ``serializer_class``: a value that is not valid is a 400 naming it."""
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _fields(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {
            key: [str(message) for message in (value if isinstance(value, list) else [value])]
            for key, value in detail.items()
        }
    return {}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Give every API error the one body shape, with a translated message."""
    if isinstance(exc, DomainError):
        body = {"code": exc.code, "message": str(exc.message), "fields": exc.fields}
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else None
        return Response(body, status=exc.status, headers=headers)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    request = context.get("request")
    if isinstance(exc, exceptions.NotAuthenticated) and request is not None and request.headers.get("X-Session-Token"):
        # A token was sent, so "not provided" would mislead: it is unknown, or its session has ended.
        replacement = exceptions.NotAuthenticated(str(SESSION_TOKEN_INVALID), code="session_token_invalid")
        replacement.status_code = exc.status_code  # the view has chosen 401 or 403 already
        exc = replacement
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = {"code": "invalid", "message": _("Some values are not valid."), "fields": _fields(exc.detail)}
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        message = str(detail) if not isinstance(detail, dict | list) else _("The request could not be handled.")
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        body = {"code": str(code), "message": message, "fields": _fields(detail) if isinstance(detail, dict) else {}}
    else:  # pragma: no cover - DRF handles only APIException and Http404/PermissionDenied
        body = {"code": "error", "message": str(exc), "fields": {}}
    response.data = body
    return response


@csrf_exempt  # it changes nothing, and a POST with a session cookie must get the API's 404 too
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Any path under /api/ that no endpoint answers: a 404 in the API's error body, not the site's page.

    A path that lacks only its final slash is sent on to it, as CommonMiddleware did before this caught every path.
    """
    with_slash = f"{request.path_info}/"
    if not request.path_info.endswith("/") and resolve(with_slash).func is not not_found:
        if request.method in {"GET", "HEAD"}:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
        message = _("There is no such API endpoint; the path ends with a slash: %(path)s") % {"path": with_slash}
        return api_error("not_found", message, status=404)
    return api_error("not_found", _("There is no such API endpoint."), status=404)


class StableCursorPagination(CursorPagination):
    """Cursor pagination over a stable key: the default for plain lists."""

    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"
    ordering = "pk"
