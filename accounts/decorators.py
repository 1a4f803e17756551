"""Staff pages need a logged-in staff member with a TOTP authenticator (DESIGN §7: staff log in with MFA)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse

from accounts.selectors import has_totp, is_platform_admin, is_staff_member

View = Callable[..., HttpResponseBase]


def staff_mfa_response(request: HttpRequest) -> HttpResponse | None:
    """The redirect a staff page answers instead of itself, or None when the user may go on.

    Anonymous users go to the portal login and come back; staff without TOTP go to its
    activation; anyone else logged in is told nothing (404).
    """
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("account_login"))
    if not is_staff_member(user):
        raise Http404
    if not has_totp(user):
        return HttpResponseRedirect(reverse("mfa_activate_totp"))
    return None


def staff_member_required_with_mfa(view: View) -> View:
    """Decorate a staff page: logged in, staff (is_staff or a department membership), TOTP enrolled."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = staff_mfa_response(request)
        if response is not None:
            return response
        return view(request, *args, **kwargs)

    return wrapper


def platform_admin_required_with_mfa(view: View) -> View:
    """Decorate a page for platform admins (superusers) with TOTP; other staff and citizens are told nothing (404)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated and not is_platform_admin(request.user):
            raise Http404
        return staff_mfa_response(request) or view(request, *args, **kwargs)

    return wrapper


def admin_login_redirect(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """Replaces the Django admin's own login form: the portal login (with MFA) is the only way in.

    Someone already signed in who lands here may not use the admin (a clerk without ``is_staff``): sending them
    to the login would send them straight back, for ever. They get a 403 that says so.
    """
    if request.user.is_authenticated:
        raise PermissionDenied("this account may not use the administration")
    next_url = request.GET.get("next") or reverse("admin:index")
    return redirect_to_login(next_url, reverse("account_login"))
