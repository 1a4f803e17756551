"""Reads of the documents' applications, scoped to who asks: 404 for what they may not see."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from approvals.models import Application
from core.errors import NotFound


def application_for_staff(user: AbstractBaseUser | AnonymousUser, *, public_id: str) -> Application:
    """A submitted application that one of the user's departments handles (its own, or a task of it); else NotFound.

    The scope of ``selectors.attachment_for_staff``.
    """
    departments = account_selectors.staff_departments(user)
    handled = Application.objects.filter(Q(department_id__in=departments) | Q(tasks__department_id__in=departments))
    try:
        return (
            Application.objects.select_related("service", "department__region", "acting_for")
            .exclude(status=Application.Status.DRAFT)
            .get(public_id=public_id, pk__in=handled.values("pk"))
        )
    except (Application.DoesNotExist, ValueError, ValidationError):
        raise NotFound(_("No such application.")) from None
