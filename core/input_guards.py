"""Bad input refused before any view sees it, with a clear 4xx in the format of the endpoint it was sent to.

Some input cannot be handled further in: JSON nested thousands of levels deep
(the decoder runs out of stack), the null character and unpaired surrogates
(PostgreSQL stores neither), bodies too large to read. Each is refused here once,
for every endpoint, and nothing is changed. The answer has the endpoint's own
error format: the portal's ``{"code", "message", "fields"}`` under /api/,
allauth's ``{"status", "errors"}`` under /_allauth/, OAuth's ``{"error",
"error_description"}`` on the OpenID Connect provider's machine endpoints, and
an error page everywhere else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

Handler = Callable[[HttpRequest], HttpResponse]

# Deeper than any form or request of the portal nests (a form's table of addresses is four levels).
MAX_JSON_DEPTH = 32
# Room for the multipart framing and the other fields around the one file an API upload carries.
MULTIPART_OVERHEAD_BYTES = 1024 * 1024
# Text PostgreSQL cannot store: the null character, and surrogates (the decoder joins pairs, so any left are alone).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

# Said of an X-Session-Token that names no session: malformed here, unknown or ended in core.api.
SESSION_TOKEN_INVALID = gettext_lazy("The session token is not valid or its session has ended: log in again.")
# What allauth hands out as app session tokens (session keys: lower-case letters and digits), with room to spare.
_SESSION_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,128}")

API_PREFIX = "/api/"
ALLAUTH_PREFIX = "/_allauth/"
OAUTH_PREFIXES = ("/identity/o/api/", "/.well-known/")


class BadInput(Exception):
    """Input refused before the view; ``fields`` names where it is (a parameter, or a dotted path into the JSON)."""

    def __init__(self, message: str, *, code: str, status: int = 400, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.fields = fields or {}


class BadInputMiddleware:
    """Refuse unreadable or unstorable input to every endpoint, in that endpoint's error format."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            check_request(request)
        except BadInput as problem:
            return error_response(request, problem)
        except (SuspiciousOperation, MultiPartParserError, BadRequest) as exception:  # Django's own refusals
            return error_response(request, unreadable(exception))
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        """allauth's API: OPTIONS and methods an endpoint does not have are answered here.

        Some of its views look at the session before they dispatch on the method, and fail
        on one they do not expect (the phone endpoint, signed out, on OPTIONS or PUT).
        """
        view_class = getattr(view, "view_class", None)
        if not request.path.startswith(ALLAUTH_PREFIX) or view_class is None:
            return None
        allowed = [
            method.upper()
            for method in view_class.http_method_names
            if method != "options"
            and (hasattr(view_class, method) or (method == "head" and hasattr(view_class, "get")))
        ]
        if request.method == "OPTIONS":
            return HttpResponse(headers={"Allow": ", ".join([*allowed, "OPTIONS"]), "Content-Length": "0"})
        if request.method not in allowed:
            message = _("This endpoint does not take %(method)s requests.") % {"method": request.method}
            response = allauth_error(BadInput(message, code="method_not_allowed", status=405), status=405)
            response["Allow"] = ", ".join([*allowed, "OPTIONS"])
            return response
        return None


def check_request(request: HttpRequest) -> None:
    """Raise BadInput for a request no view can handle as sent."""
    if "\x00" in request.path:
        raise BadInput(_("Null characters are not allowed."), code="null_characters_not_allowed")
    token = request.META.get("HTTP_X_SESSION_TOKEN")
    if token is not None and not _SESSION_TOKEN.fullmatch(token):
        # No session was ever given such a token; looking it up would hand the cache a key it cannot take.
        raise BadInput(str(SESSION_TOKEN_INVALID), code="session_token_invalid", status=401)
    _check_parameters(request.GET)
    _check_size(request)
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    content_type = request.content_type or ""
    is_json = content_type == "application/json" or content_type.endswith("+json")
    is_allauth = request.path.startswith(ALLAUTH_PREFIX)
    if is_json or is_allauth:  # allauth reads every body as JSON, whatever its type says
        data = _json_body(request)
        if is_allauth and data is not None and not isinstance(data, dict):
            raise BadInput(_("The request body must be a JSON object."), code="invalid")
    elif content_type == "application/x-www-form-urlencoded" or (
        content_type == "multipart/form-data" and not request.path.startswith(API_PREFIX)
    ):
        # The pages' forms (the API reads its own uploads, and their fields are checked by its serializers).
        _check_parameters(request.POST)


def _check_parameters(parameters: QueryDict) -> None:
    for name, values in parameters.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            raise BadInput(
                _("Null characters are not allowed."),
                code="null_characters_not_allowed",
                fields={_printable(name): [_("Null characters are not allowed.")]},
            )


def _check_size(request: HttpRequest) -> None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadInput(_("The Content-Length header is not a number."), code="invalid") from None
    if request.content_type == "multipart/form-data":
        if not request.path.startswith(API_PREFIX):
            return  # a page may carry several files; each is size-checked by the upload check
        limit = settings.UPLOAD_MAX_BYTES + MULTIPART_OVERHEAD_BYTES
    else:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and length > limit:
        raise too_large(limit)


def too_large(limit: int) -> BadInput:
    return BadInput(
        _("The request is larger than the %(limit)s allowed.") % {"limit": filesizeformat(limit)},
        code="request_too_large",
        status=413,
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_body(request: HttpRequest) -> Any:
    """The body's JSON, checked to be storable and not too deep; None without a body."""
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) from None
    if not body:
        return None
    not_json = BadInput(_("The request body is not valid JSON."), code="parse_error")
    try:
        text = body.decode(request.encoding or "utf-8")
        # NaN and Infinity are not JSON, and DRF refuses them too.
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, LookupError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise not_json from None
    for path, depth, text_value in _walk(data):
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        if text_value is not None and (match := _UNSTORABLE.search(text_value)):
            if match.group() == "\x00":
                message, code = _("Null characters are not allowed."), "null_characters_not_allowed"
            else:
                message, code = _("Unpaired surrogate characters are not allowed."), "surrogate_characters_not_allowed"
            raise BadInput(message, code=code, fields={path or "body": [message]})
    return data


def _too_deep() -> BadInput:
    return BadInput(
        _("The JSON in the request body is nested more than %(limit)d levels deep.") % {"limit": MAX_JSON_DEPTH},
        code="json_too_deep",
    )


def _walk(data: Any) -> Iterator[tuple[str, int, str | None]]:
    """Every value and key of a JSON document with its dotted path and depth, without recursion."""
    stack: list[tuple[str, int, Any]] = [("", 0, data)]
    while stack:
        path, depth, value = stack.pop()
        if isinstance(value, dict):
            yield path, depth + 1, None
            for key, item in value.items():
                child = f"{path}.{_printable(key)}" if path else _printable(key)
                yield child, depth + 1, key
                stack.append((child, depth + 1, item))
        elif isinstance(value, list):
            yield path, depth + 1, None
            stack.extend(
                (f"{path}.{index}" if path else str(index), depth + 1, item) for index, item in enumerate(value)
            )
        elif isinstance(value, str):
            yield path, depth, value


def _printable(text: str) -> str:
    """A name as the error body can carry it: the unstorable characters written as escapes."""
    return _UNSTORABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def error_response(request: HttpRequest, problem: BadInput) -> HttpResponse:
    """The refusal in the format of the endpoint the request was sent to."""
    path = request.path
    if path.startswith(API_PREFIX):
        return api_error(problem.code, problem.message, problem.fields, status=problem.status)
    if path.startswith(ALLAUTH_PREFIX):
        return allauth_error(problem, status=problem.status)
    if path.startswith(OAUTH_PREFIXES):
        body = {"error": "invalid_request", "error_description": problem.message}
        return JsonResponse(body, status=problem.status, json_dumps_params={"ensure_ascii": False})
    context = {"message": problem.message, "fields": problem.fields}
    return render(request, "portal/error.html", context, status=problem.status)


def api_error(code: str, message: str, fields: dict[str, list[str]] | None = None, *, status: int) -> JsonResponse:
    """The portal API's one error body."""
    body = {"code": code, "message": message, "fields": fields or {}}
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def allauth_error(problem: BadInput, *, status: int) -> JsonResponse:
    """An error as allauth's headless API writes its own: each with its message, code and the parameter it is about."""
    errors: list[dict[str, str]] = []
    for field, messages in problem.fields.items():
        errors += [{"message": message, "code": problem.code, "param": field.split(".")[0]} for message in messages]
    return JsonResponse(
        {"status": status, "errors": errors or [{"message": problem.message, "code": problem.code}]}, status=status
    )


def unreadable(exception: Exception) -> BadInput:
    """What Django's refusals of a request (too big, too many fields or files, malformed) say to a client."""
    if isinstance(exception, RequestDataTooBig):
        return too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        return BadInput(_("The request has too many fields or files."), code="too_many_fields")
    return BadInput(_("The request could not be read."), code="bad_request")
