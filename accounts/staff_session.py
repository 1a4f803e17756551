"""Whether the person logged in is staff, asked once at login and kept in the session for the pages' header.

The header links staff to their workbench on every page; reading the session, which
every page loads anyway, costs no query. A membership given or taken during a session
shows at the next login; the staff pages themselves check on every request.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from accounts import selectors

SESSION_KEY = "accounts.is_staff_member"


def remember_staff_member(request: HttpRequest, user: AbstractBaseUser) -> None:
    """Note in the session just logged into whether ``user`` is staff (one query, at login)."""
    request.session[SESSION_KEY] = [user.pk, selectors.is_staff_member(user)]


def is_remembered_staff_member(request: HttpRequest, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the login of this session found ``user`` to be staff; never a query."""
    if not user.is_authenticated:
        return False
    if getattr(user, "is_staff", False):
        return True
    remembered = request.session.get(SESSION_KEY)
    return isinstance(remembered, list) and remembered == [user.pk, True]
