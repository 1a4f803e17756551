"""Every page of the Django admin requires a staff member with TOTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

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


class PrivacyConsentMiddleware:
    """A logged-in person who has not agreed to the current privacy notice is asked to first.

    Pages needed to read the notice, agree, or leave stay open; so do the API and
    the health checks, which answer machines.
    """

    OPEN_PREFIXES = ("/static/", "/healthz", "/api/", "/_allauth/", "/identity/", "/.well-known/")
    OPEN_URL_NAMES = frozenset({"privacy_consent", "privacy_notice", "account_logout"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if user.privacy_notice_version == settings.PRIVACY_NOTICE_VERSION:
            return None
        if request.path.startswith(self.OPEN_PREFIXES):
            return None
        match = request.resolver_match
        if match is not None and match.url_name in self.OPEN_URL_NAMES:
            return None
        return redirect_to_login(request.get_full_path(), reverse("accounts:privacy_consent"), "next")
