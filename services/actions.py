"""Writes of the catalogue: the life of a service item's versions.

draft → in_review → (scheduled →) published → retired. A published version
never changes: editing starts a new draft version; publishing needs a second
person; the new version takes over from its effective date and the previous
one is retired the day before.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from services import search, selectors
from services.models import ServiceItem
from services.validation import item_problems, served_party_flags

# Fields of a version that an editor may change while it is a draft. The
# identity of the entry (codes, department, level) is fixed for all versions.
EDITABLE_FIELDS = frozenset(
    {
        "name", "aliases", "summary", "item_type", "served_parties", "handling_type",
        "legal_limit", "legal_limit_unit", "promised_limit", "promised_limit_unit", "visits", "star_level",
        "online_depth", "min_real_name_level", "scope", "section", "conditions", "legal_basis", "consult_phone",
        "supervise_phone",
        "location", "hours", "materials", "fees", "faqs", "process", "form_schema", "form_ui", "workflow",
        "effective_from", "effective_to", "change_note",
    }
)  # fmt: skip
COPIED_FIELDS = ("implementation_code", "basic_code", "department_id", "exercise_level", *sorted(EDITABLE_FIELDS))


def _today() -> datetime.date:
    return timezone.localdate()


def _locked(item_id: int) -> ServiceItem:
    try:
        return ServiceItem.objects.select_for_update().get(pk=item_id)
    except ServiceItem.DoesNotExist:
        raise NotFound(_("This service item version does not exist.")) from None


def _require(item: ServiceItem, *statuses: str) -> None:
    if item.status not in statuses:
        raise Conflict(
            _("This version is %(status)s; that is not possible now.") % {"status": item.get_status_display()},
            code="wrong_status",
        )


@transaction.atomic
def item_draft_start(*, implementation_code: str, actor: User) -> ServiceItem:
    """Start a new draft version of an entry, copied from its newest version."""
    versions = ServiceItem.objects.select_for_update().filter(implementation_code=implementation_code)
    newest = versions.order_by("-version").first()
    if newest is None:
        raise NotFound(_("There is no service item with this implementation code."))
    if versions.filter(
        status__in=[ServiceItem.Status.DRAFT, ServiceItem.Status.IN_REVIEW, ServiceItem.Status.SCHEDULED]
    ).exists():
        raise Conflict(_("This item already has a version being edited or awaiting publication."), code="open_draft")
    next_version = (versions.aggregate(top=Max("version"))["top"] or 0) + 1
    draft = ServiceItem(
        **{field: getattr(newest, field) for field in COPIED_FIELDS},
        version=next_version,
        status=ServiceItem.Status.DRAFT,
        edited_by=actor,
    )
    draft.effective_from = None
    draft.effective_to = None
    draft.change_note = ""
    draft.save()
    draft.themes.set(newest.themes.all())
    return draft


@transaction.atomic
def item_draft_update(
    *, item_id: int, actor: User, changes: dict[str, Any], theme_ids: list[int] | None = None
) -> ServiceItem:
    """Change fields of a draft version; published and retired versions never change."""
    item = _locked(item_id)
    _require(item, ServiceItem.Status.DRAFT)
    unknown = sorted(set(changes) - EDITABLE_FIELDS)
    if unknown:
        raise DomainError(
            _("These fields cannot be edited: %(fields)s") % {"fields": ", ".join(unknown)}, code="not_editable"
        )
    for field, value in changes.items():
        setattr(item, field, value)
    item.for_persons, item.for_enterprises = served_party_flags(list(item.served_parties or []))
    item.edited_by = actor
    item.save(update_fields=[*changes, "for_persons", "for_enterprises", "edited_by", "updated_at"])
    if theme_ids is not None:
        item.themes.set(theme_ids)
    return item


@transaction.atomic
def item_submit_for_review(*, item_id: int, actor: User) -> ServiceItem:
    """Send a complete draft to a second person for approval."""
    item = _locked(item_id)
    _require(item, ServiceItem.Status.DRAFT)
    problems = item_problems(item)
    if item.effective_from is None:
        problems.setdefault("effective_from", []).append(_("Choose the date from which this version applies."))
    if problems:
        raise DomainError(_("The version is not complete yet."), code="incomplete", fields=problems)
    item.status = ServiceItem.Status.IN_REVIEW
    item.save(update_fields=["status", "updated_at"])
    return item


@transaction.atomic
def item_return_to_draft(*, item_id: int, actor: User) -> ServiceItem:
    """Send a version awaiting approval back to its editor."""
    item = _locked(item_id)
    _require(item, ServiceItem.Status.IN_REVIEW)
    item.status = ServiceItem.Status.DRAFT
    item.save(update_fields=["status", "updated_at"])
    return item


@transaction.atomic
def item_approve(*, item_id: int, actor: User, today: datetime.date | None = None) -> ServiceItem:
    """Approve a version: published at once when it is already effective, else scheduled."""
    item = _locked(item_id)
    _require(item, ServiceItem.Status.IN_REVIEW)
    if item.edited_by_id == actor.pk:
        raise PermissionDenied(_("The editor of a version cannot approve it: a second person must."), code="four_eyes")
    item.approved_by = actor
    item.status = ServiceItem.Status.SCHEDULED
    item.save(update_fields=["approved_by", "status", "updated_at"])
    today = today or _today()
    if item.effective_from is not None and item.effective_from <= today:
        _publish(item)
    return item


def _publish(item: ServiceItem) -> None:
    """Publish a scheduled version in place of the one in force, and update the catalogue after the commit."""
    previous = (
        ServiceItem.objects.select_for_update()
        .filter(implementation_code=item.implementation_code, status=ServiceItem.Status.PUBLISHED)
        .first()
    )
    version_publish(item, previous=previous)
    transaction.on_commit(
        lambda: catalogue_updated(published_ids=[item.pk], retired_ids=[previous.pk] if previous else [])
    )


def version_publish(item: ServiceItem, *, previous: ServiceItem | None) -> None:
    """The one way a version becomes the published one: approval, scheduled publication and import all come here.

    ``previous`` is the version in force (or None), locked by the caller with ``item``: it is retired the day
    before ``item`` takes effect. The caller calls ``catalogue_updated`` once its transaction commits.
    """
    assert item.effective_from is not None
    if previous is not None:
        previous.status = ServiceItem.Status.RETIRED
        previous.effective_to = item.effective_from - datetime.timedelta(days=1)
        previous.save(update_fields=["status", "effective_to", "updated_at"])
    item.status = ServiceItem.Status.PUBLISHED
    item.published_at = timezone.now()
    item.save(update_fields=["status", "published_at", "updated_at"])


def catalogue_updated(*, published_ids: list[int], retired_ids: list[int]) -> None:
    """After a commit that changed what is published: update the search index and drop cached views."""
    if retired_ids:
        search.unindex(retired_ids)
    if published_ids:
        search.reindex(published_ids)
    selectors.catalogue_changed()


@transaction.atomic
def versions_publish_due(*, today: datetime.date | None = None) -> int:
    """Publish every scheduled version whose effective date has come; returns how many."""
    today = today or _today()
    due = list(
        ServiceItem.objects.select_for_update(skip_locked=True)
        .filter(status=ServiceItem.Status.SCHEDULED, effective_from__lte=today)
        .order_by("effective_from", "pk")
    )
    for item in due:
        _publish(item)
    return len(due)


@transaction.atomic
def item_retire(*, implementation_code: str, actor: User, until: datetime.date | None = None) -> ServiceItem:
    """Withdraw an entry from the catalogue (the power is abolished or moved)."""
    item = (
        ServiceItem.objects.select_for_update()
        .filter(implementation_code=implementation_code, status=ServiceItem.Status.PUBLISHED)
        .first()
    )
    if item is None:
        raise NotFound(_("There is no published service item with this implementation code."))
    item.status = ServiceItem.Status.RETIRED
    item.effective_to = until or _today()
    item.save(update_fields=["status", "effective_to", "updated_at"])
    transaction.on_commit(lambda: catalogue_updated(published_ids=[], retired_ids=[item.pk]))
    return item
