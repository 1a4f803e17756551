"""Reads of applications, each scoped to who asks: 404 for what they may not see."""

from __future__ import annotations

import datetime
import hmac
from collections.abc import Collection
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from approvals.access import Scopes, application_scope, bundle_scope
from approvals.applications.numbering import QUERY_PASSWORD_PURPOSE
from approvals.models import Application, ApplicationEvent, Attachment, BundleApplication, Channel
from core import crypto
from core.errors import NotFound


def applications_for_owner(
    user: AbstractBaseUser | AnonymousUser, *, scopes: Scopes | None = None
) -> QuerySet[Application]:
    """The user's applications (drafts included), newest first, with what a list shows."""
    if not user.is_authenticated:
        return Application.objects.none()
    return (
        Application.objects.filter(application_scope(user, scopes=scopes))
        .select_related("service", "department", "acting_for")
        .order_by("-created_at", "-pk")
    )


def bundles_of_owner(
    user: AbstractBaseUser | AnonymousUser, *, scopes: Scopes | None = None
) -> list[BundleApplication]:
    """The user's 一件事 applications (drafts and submitted, their own and their enterprises'), newest first."""
    if not user.is_authenticated:
        return []
    return list(
        BundleApplication.objects.filter(bundle_scope(user, scopes=scopes))
        .select_related("bundle")
        .order_by("-created_at", "-pk")[:50]
    )


RECENT_SHOWN = 5


def recent_for_owner(user: AbstractBaseUser) -> dict[str, list[Application]]:
    """The owner's latest applications and drafts, for their personal space (/me/)."""
    mine = applications_for_owner(user)
    return {
        "applications": list(mine.exclude(status=Application.Status.DRAFT)[:RECENT_SHOWN]),
        "drafts": list(
            mine.filter(status=Application.Status.DRAFT, bundle_application__isnull=True).order_by(
                "-updated_at", "-pk"
            )[:RECENT_SHOWN]
        ),
    }


def submitted_for_owner(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Application]:
    return applications_for_owner(user).exclude(status=Application.Status.DRAFT)


def drafts_for_owner(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Application]:
    return applications_for_owner(user).filter(status=Application.Status.DRAFT).order_by("-updated_at", "-pk")


def application_for_owner(
    user: AbstractBaseUser | AnonymousUser, *, number: str = "", public_id: str = ""
) -> Application:
    """One application of the user's by its number or id; NotFound for anyone else's."""
    lookup = Q(number=number) if number else Q(public_id=public_id)
    try:
        return applications_for_owner(user).select_related("service__department__region").get(lookup)
    except (Application.DoesNotExist, ValueError, ValidationError):
        raise NotFound(_("No such application.")) from None


def timeline(application: Application) -> list[ApplicationEvent]:
    """Every event of the application, oldest first, with the department that acted."""
    return list(application.events.select_related("department").order_by("at", "pk"))


def timeline_steps(
    application: Application, *, leaving_out: Collection[str] = ()
) -> list[tuple[datetime.datetime, str, str | None, dict[str, Any]]]:
    """(when, action, the acting department's name or None, details) of each event, oldest first: the timeline
    without its people and notes, and without the actions in ``leaving_out``."""
    events = ApplicationEvent.objects.filter(application_id=application.pk)
    if leaving_out:
        events = events.exclude(action__in=sorted(leaving_out))
    return list(events.order_by("at", "pk").values_list("at", "action", "department__name", "details"))


def attachment_for_owner(user: AbstractBaseUser | AnonymousUser, *, public_id: str) -> Attachment:
    """A file of one of the user's applications; NotFound otherwise."""
    try:
        return Attachment.objects.select_related("application").get(
            public_id=public_id, application__in=applications_for_owner(user)
        )
    except (Attachment.DoesNotExist, ValueError, ValidationError):
        raise NotFound(_("No such file.")) from None


def attachment_for_staff(user: AbstractBaseUser | AnonymousUser, *, public_id: str) -> Attachment:
    """A file of an application one of the user's departments handles (its own, or a task of it); NotFound otherwise."""
    departments = account_selectors.staff_departments(user)
    handled = Application.objects.filter(
        Q(department_id__in=departments) | Q(tasks__department_id__in=departments)
    ).exclude(status=Application.Status.DRAFT)
    try:
        return Attachment.objects.select_related("application").get(
            public_id=public_id, application__in=handled.values("pk")
        )
    except (Attachment.DoesNotExist, ValueError, ValidationError):
        raise NotFound(_("No such file.")) from None


# What public tracking reads of an application: the password check and what its result shows.
TRACKED_FIELDS = (
    "number", "query_password_hash", "status", "due_date",
    "service", "service__implementation_code", "service__name", "service__version",
    "department", "department__uscc", "department__name",
)  # fmt: skip


def tracked_application(*, number: str, password: str) -> Application | None:
    """The submitted application with this number and query password, or None (saying nothing of which was wrong)."""
    number = (number or "").strip().upper()
    password = (password or "").strip()
    if not number or not password.isdigit() or len(password) != 6:
        return None
    try:
        # The number is unique: a plain lookup (first() would add an ORDER BY), of what a result shows.
        application = (
            Application.objects.select_related("service", "department").only(*TRACKED_FIELDS).get(number=number)
        )
    except Application.DoesNotExist:
        return None
    # Every key still accepted (a rotated key keeps old passwords working), each compared in constant time.
    stored = application.query_password_hash.encode()
    candidates = crypto.keyed_hashes(f"{number}:{password}", purpose=QUERY_PASSWORD_PURPOSE)
    # A list, not a generator: every key is compared, whichever matches (no early exit to time).
    if not any([hmac.compare_digest(stored, candidate.encode()) for candidate in candidates]):  # noqa: C419
        return None
    return application


def counter_application_for_clerk(user: AbstractBaseUser | AnonymousUser, *, public_id: str) -> Application:
    """A submitted counter application this clerk recorded (for its receipt); NotFound otherwise."""
    try:
        return Application.objects.select_related("service", "department").get(
            public_id=public_id, recorded_by_id=user.pk, channel=Channel.COUNTER, number__isnull=False
        )
    except (Application.DoesNotExist, ValueError, ValidationError):
        raise NotFound(_("No such application.")) from None


def query_password(application: Application) -> str:
    """The application's 查询密码 in clear, for its owner's page and the counter receipt ("" when it has none)."""
    return crypto.decrypt(application.query_password_encrypted) if application.query_password_encrypted else ""


def awaited_names(application: Application, names: dict[str, str] | None = None) -> list[str]:
    """The services of its bundle this submitted application still waits for before it goes to its department.

    A child of a bundle that waits is submitted but never routed until they are approved
    (``approvals.bundles.order``). ``names`` maps the bundle's codes to names when the caller has them.
    """
    bundle = application.bundle_application if application.bundle_application_id is not None else None
    if bundle is None or application.status != Application.Status.SUBMITTED or application.stage_index is not None:
        return []
    codes = bundle.bundle.prerequisites_of(application.implementation_code)
    if names is None:
        names = dict(
            Application.objects.filter(bundle_application=bundle, implementation_code__in=codes).values_list(
                "implementation_code", "service__name"
            )
        )
    return [names.get(code, code) for code in codes]
