"""Every page of the Django admin requires a staff member with TOTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from accounts.decorators import staff_mfa_response

ADMIN_NAMESPACE = "admin"
# The admin's login and logout pages answer for themselves (login redirects to the portal login).
_OPEN_ADMIN_VIEWS = {"login", "logout"}


class StaffMFAMiddleware:
    """Applies ``staff_mfa_response`` to every view of the admin site, so no admin page can forget it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or ADMIN_NAMESPACE not in match.namespaces:
            return None
        if match.url_name in _OPEN_ADMIN_VIEWS:
            return None
        return staff_mfa_response(request)
