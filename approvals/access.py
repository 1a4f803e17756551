"""Who may see and act on which application or bundle as its applicant: one scope for every list and detail.

Each rule is here in the two forms its callers need: a ``Q`` for the lists (``application_scope``,
``bundle_scope``), and a check of one row already loaded for the details and the actions (``may_act_on``,
``may_see_bundle``), which costs no query for a user's own applications.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from accounts import selectors as account_selectors
from approvals.models import Application, BundleApplication, Channel
from services.models import Bundle

# Enterprise id → the item codes the user may act in for it (None: every item), as accounts gives them.
Scopes = dict[int, frozenset[str] | None]


def application_scope(user: AbstractBaseUser | AnonymousUser, *, scopes: Scopes | None = None) -> Q:
    """The applications a user may see as applicant: their own, and those of enterprises they may act for.

    ``scopes`` saves reading the user's authorisations again when the caller has them already.
    """
    counter_draft = Q(channel=Channel.COUNTER, status=Application.Status.DRAFT)
    # A counter application is the recording clerk's while a draft, the person's once submitted.
    scope = Q(applicant_id=user.pk, acting_for__isnull=True) & ~counter_draft
    scope |= Q(recorded_by_id=user.pk) & counter_draft
    if scopes is None:
        scopes = account_selectors.enterprise_scopes(user)
    for enterprise_id, codes in scopes.items():
        if codes is None:
            scope |= Q(acting_for_id=enterprise_id) & ~counter_draft
        elif codes:
            scope |= Q(acting_for_id=enterprise_id, implementation_code__in=sorted(codes)) & ~counter_draft
    return scope


def _holds_every_item(bundle_codes: Iterable[str], codes: frozenset[str] | set[str] | None) -> bool:
    """Whether an agent who may act in ``codes`` (None: every item) may act in every item of a bundle."""
    return codes is None or set(bundle_codes) <= codes


def bundle_scope(user: AbstractBaseUser | AnonymousUser, *, scopes: Scopes | None = None) -> Q:
    """The bundle applications a user may see as applicant, for lists: their own, and an enterprise's whose every
    item they may act in for it (``may_see_bundle`` is the same rule for one bundle already loaded)."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    scope = Q(applicant_id=user.pk, acting_for__isnull=True)
    restricted: dict[int, set[str]] = {}
    if scopes is None:
        scopes = account_selectors.enterprise_scopes(user)
    for enterprise_id, item_codes in scopes.items():
        if item_codes is None:
            scope |= Q(acting_for_id=enterprise_id)
        else:
            restricted[enterprise_id] = set(item_codes)
    if restricted:
        # An agent limited to some items sees a bundle only when it holds every item of it.
        bundles = list(Bundle.objects.values_list("pk", "item_codes"))
        for enterprise_id, codes in restricted.items():
            allowed = sorted(pk for pk, bundle_codes in bundles if _holds_every_item(bundle_codes, codes))
            if allowed:
                scope |= Q(acting_for_id=enterprise_id, bundle_id__in=allowed)
    return scope


def may_see_bundle(bundle: BundleApplication, user: AbstractBaseUser | AnonymousUser) -> bool:
    """``bundle_scope`` for one bundle application already loaded (its own bundles cost no query)."""
    if not user.is_authenticated:
        return False
    if bundle.acting_for_id is None:
        return bundle.applicant_id == user.pk
    scopes = account_selectors.enterprise_scopes(user)
    return bundle.acting_for_id in scopes and _holds_every_item(bundle.bundle.item_codes, scopes[bundle.acting_for_id])


def is_counter_draft(application: Application) -> bool:
    return application.channel == Channel.COUNTER and application.status == Application.Status.DRAFT


def may_act_on(application: Application, user: AbstractBaseUser | AnonymousUser) -> bool:
    """``application_scope`` for one application already loaded: its applicant, or someone who may act today for
    the enterprise it was made for. A counter application is the recording clerk's until it is submitted, then
    the person's."""
    if is_counter_draft(application):
        return application.recorded_by_id == user.pk
    if application.acting_for_id is not None:
        return account_selectors.can_act_for(
            user=user, enterprise_id=application.acting_for_id, item_code=application.implementation_code
        )
    return application.applicant_id == user.pk
