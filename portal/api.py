"""What every API view shares: the error body, the pagination styles.

Errors of /api/v1/ are always ``{"code": "...", "message": "...", "fields": {...}}``
with the right status; lists are ``{"results": [...], "next": url|null, "previous": url|null}``.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from portal.errors import DomainError


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
        return Response(body, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
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


class StableCursorPagination(CursorPagination):
    """Cursor pagination over a stable key: the default for plain lists."""

    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"
    ordering = "pk"
