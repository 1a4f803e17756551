"""The one family of errors that actions raise when a request cannot be done.

Each carries a stable ``code`` (for the API and for tests) and a translated
message for people. Views and the API turn them into a page message or an
error body in one place each.
"""

from __future__ import annotations

from django.utils.functional import Promise


class DomainError(Exception):
    """A request that breaks a rule of the domain; nothing was changed."""

    code = "invalid"
    status = 400

    def __init__(self, message: str | Promise, *, code: str | None = None, fields: dict[str, list[str]] | None = None):
        super().__init__(str(message))
        self.message = message
        if code is not None:
            self.code = code
        self.fields = fields or {}


class NotFound(DomainError):
    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403


class Conflict(DomainError):
    """The object is not in a state that allows this (already published, already claimed …)."""

    code = "conflict"
    status = 409


class TooManyAttempts(DomainError):
    """A limit on attempts was reached; ``retry_after`` says in how many seconds the next one is allowed.

    The API answers it with a ``Retry-After`` header, and with the code DRF gives its own rate limits.
    """

    code = "throttled"
    status = 429

    def __init__(self, message: str | Promise, *, retry_after: int, code: str | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after
