"""Reads of bundle applications, each scoped to who asks (``approvals.access``): 404 for what they may not see."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Enterprise
from approvals.access import bundle_scope, may_see_bundle
from approvals.models import Application, ApplicationEvent, BundleApplication
from approvals.timeline import event_text, repeats_note
from core.errors import NotFound
from services import selectors as service_selectors
from services.models import Bundle, Department


def bundle_for_owner(user: AbstractBaseUser | AnonymousUser, public_id: str) -> BundleApplication:
    """One bundle application of the user's; NotFound (404) for anyone else's."""
    try:
        bundle = BundleApplication.objects.select_related("bundle", "acting_for").filter(public_id=public_id).first()
    except (ValueError, ValidationError):
        bundle = None
    if bundle is None or not may_see_bundle(bundle, user):
        raise NotFound(_("No such application."))
    return bundle


def bundles_for_owner(user: AbstractBaseUser | AnonymousUser) -> QuerySet[BundleApplication]:
    """Every bundle application the user may see as applicant (drafts too), newest first, with its bundle."""
    return (
        BundleApplication.objects.filter(bundle_scope(user))
        .select_related("bundle", "acting_for")
        .order_by("-created_at", "-pk")
    )


def bundle_drafts_for_owner(
    user: AbstractBaseUser | AnonymousUser, *, bundle: Bundle, acting_for: Enterprise | None
) -> list[BundleApplication]:
    """The user's drafts of this bundle (for themselves, or for the enterprise they act for), newest first."""
    if not user.is_authenticated:
        return []
    return list(
        BundleApplication.objects.filter(
            bundle_scope(user),
            bundle=bundle,
            acting_for=acting_for,
            status=BundleApplication.Status.DRAFT,
        ).order_by("-updated_at", "-pk")[:20]
    )


def bundle_children(bundle: BundleApplication) -> list[Application]:
    """The children of a bundle in the bundle's order, with their item and department."""
    return list(bundle.children.select_related("service", "department").order_by("pk"))


@dataclass(frozen=True)
class BundleEvent:
    """One entry of the bundle's timeline: what happened, to which item (the shape ``_timeline.html`` shows)."""

    at: datetime.datetime
    text: str
    item_name: str
    department: Department | None
    note: str


def bundle_timeline(bundle: BundleApplication) -> list[BundleEvent]:
    """Every child's events merged by time, each labelled with its item's name (one query)."""
    events = (
        ApplicationEvent.objects.filter(application__bundle_application=bundle)
        .select_related("department", "application__service")
        .order_by("at", "pk")
    )
    found: list[BundleEvent] = []
    previous: dict[int, ApplicationEvent] = {}  # each child's event before, for a note that only repeats it
    for event in events:
        what = event_text(event.action, event.details)
        found.append(
            BundleEvent(
                at=event.at,
                text=_("%(item)s: %(what)s") % {"item": event.application.service.name, "what": what},
                item_name=event.application.service.name,
                department=event.department,
                note="" if repeats_note(event, previous.get(event.application_id)) else event.note,
            )
        )
        previous[event.application_id] = event
    return found


def active_bundle(slug: str) -> Bundle:
    """The active bundle with this slug; NotFound otherwise."""
    bundle = next((each for each in service_selectors.active_bundles() if each.slug == slug), None)
    if bundle is None:
        raise NotFound(_("No such bundle."), code="bundle_not_found")
    return bundle


def bundle_url(bundle: BundleApplication) -> str:
    return reverse("bundles:bundle", kwargs={"public_id": bundle.public_id})
