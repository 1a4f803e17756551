"""The applicant's pages of a 一件事 bundle: start, one form step by step, materials once, check, submit, follow."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors as account_selectors
from accounts.models import User
from approvals import forms_engine
from approvals.applications import draft_flow, merged_form, rules, selectors
from approvals.bundles import actions as bundle_actions
from approvals.bundles import order
from approvals.bundles import selectors as bundle_selectors
from approvals.materials import MaterialState, materials_of_items
from approvals.models import Application, BundleApplication
from approvals.pages import Redirect, redirecting, upgrade_url, user_of
from core.errors import DomainError, NotFound
from services import selectors as service_selectors

SUBMIT_TOKEN_SESSION_KEY = "bundles_submit_tokens"  # noqa: S105  # a session key


def _bundle_draft(request: HttpRequest, public_id: str) -> tuple[BundleApplication, list[Application]]:
    """The user's bundle draft and its children (moved to new versions of their items where needed)."""
    bundle = bundle_selectors.bundle_for_owner(request.user, public_id)
    if not bundle.is_draft:
        raise Redirect(bundle_selectors.bundle_url(bundle))
    return bundle, bundle_actions.bundle_draft_children(bundle)


class BundleFilling(draft_flow.Filling):
    """A 一件事 bundle's drafts, filled in together under one form with each material once."""

    pages = draft_flow.Pages("bundles:", SUBMIT_TOKEN_SESSION_KEY)

    def __init__(self, bundle: BundleApplication, children: list[Application]) -> None:
        super().__init__(bundle, children, name=bundle.bundle.name, leave_url=bundle_selectors.bundle_url(bundle))
        self.bundle = bundle

    def _not_asked(self) -> set[str]:
        return order.not_asked(self.bundle.bundle, (child.service for child in self.drafts))

    def steps(self) -> list[forms_engine.Step]:
        return order.without_fields(super().steps(), self._not_asked())

    def material_states(self) -> list[MaterialState]:
        return order.without_materials(super().material_states(), self._not_asked())

    def problems(self) -> dict[str, list[str]]:
        return order.submission_problems(self.bundle.bundle, self.drafts)

    def attach(self, *, user: User, upload: UploadedFile, material_code: str = "", field_code: str = "") -> str:
        stored = bundle_actions.bundle_attachment_add(
            bundle_id=self.bundle.pk, user=user, upload=upload, material_code=material_code, field_code=field_code
        )
        return str(stored[0].public_id)

    def remove_material(self, *, user: User, material_code: str, attachment_id: str) -> None:
        bundle_actions.bundle_attachment_remove(bundle_id=self.bundle.pk, user=user, material_code=material_code)

    def pick_certificate(self, *, user: User, material_code: str, certificate_id: str) -> None:
        bundle_actions.bundle_material_pick_certificate(
            bundle_id=self.bundle.pk, user=user, material_code=material_code, certificate_id=certificate_id
        )

    def save(self, *, user: User, changes: dict[str, Any]) -> None:
        bundle_actions.bundle_draft_update(bundle_id=self.bundle.pk, user=user, data=changes)

    def delete(self, *, user: User) -> None:
        bundle_actions.bundle_draft_delete(bundle_id=self.bundle.pk, user=user)


# --- start -------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, slug: str) -> HttpResponse:
    """What the bundle covers and what it needs; POST starts one draft for all its items."""
    user = user_of(request)
    try:
        bundle = bundle_selectors.active_bundle(slug)
    except NotFound:
        raise Http404 from None
    items = service_selectors.items_of_bundle(bundle)
    if not items:
        raise Http404
    # A bundle for an enterprise not registered yet is applied for as oneself, whoever one acts for now.
    acting_for = None if bundle.is_for_new_enterprise else account_selectors.acting_for(request)
    strictest = max(items, key=lambda item: item.min_real_name_level)
    if user.real_name_level < rules.needed_level(strictest):
        messages.info(
            request,
            _("To apply for %(service)s your account needs %(level)s. Verify your identity first.")
            % {"service": bundle.name, "level": rules.level_label(rules.needed_level(strictest))},
        )
        return HttpResponseRedirect(upgrade_url(strictest, user, request.get_full_path()))
    not_asked = order.not_asked(bundle, items)
    by_code = {item.implementation_code: item for item in items}
    problem = ""
    try:
        bundle_actions.bundle_items(bundle, user=user, acting_for=acting_for)
    except DomainError as error:
        problem = str(error.message)
    if request.method == "POST" and not problem:
        application = bundle_actions.bundle_draft_start(user=user, slug=slug, acting_for=acting_for)
        return HttpResponseRedirect(bundle_selectors.bundle_url(application))
    context = {
        "bundle": bundle,
        "items": items,
        "acting_for": acting_for,
        "problem": problem,
        "drafts": bundle_selectors.bundle_drafts_for_owner(user, bundle=bundle, acting_for=acting_for),
        "materials": [entry for entry in materials_of_items(items) if f"material.{entry['code']}" not in not_asked],
        "steps": order.without_fields(merged_form.form_steps(items), not_asked),
        "waiting": [
            (
                item,
                [by_code[code].name for code in bundle.prerequisites_of(item.implementation_code) if code in by_code],
            )
            for item in items
            if order.waits(bundle, item)
        ],
    }
    status = 409 if problem and request.method == "POST" else 200
    return render(request, "approvals/bundle_start.html", context, status=status)


# --- the bundle: a draft's overview, or the submitted bundle's page -------------------


@never_cache
@login_required
@require_http_methods(["GET"])
@redirecting
def bundle(request: HttpRequest, public_id: str) -> HttpResponse:
    """A draft: where it stands. Once submitted: each item's application and one timeline for all."""
    application = bundle_selectors.bundle_for_owner(request.user, public_id)
    if not application.is_draft:
        children = bundle_selectors.bundle_children(application)
        names = {child.implementation_code: child.service.name for child in children}
        context = {
            "bundle": application,
            # each child, with the items it still waits for before it goes to its department
            "rows": [(child, selectors.awaited_names(child, names)) for child in children],
            "events": bundle_selectors.bundle_timeline(application),
            # the new enterprise, once its registration gave it a credit code
            "founded": next((child.result for child in children if child.result.get("uscc")), None),
        }
        return render(request, "approvals/bundle_application.html", context)
    return draft_flow.overview_page(request, BundleFilling(*_bundle_draft(request, public_id)))


# --- the one form step by step, materials once for every item, check and submit --------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@redirecting
def step(request: HttpRequest, public_id: str, step: int) -> HttpResponse:
    """One step of the bundle's one form: each answer is checked by every item that asks it, and saved into each."""
    return draft_flow.step_page(request, BundleFilling(*_bundle_draft(request, public_id)), step)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@redirecting
def materials(request: HttpRequest, public_id: str) -> HttpResponse:
    """Each material once: an upload, a certificate from the wallet, or the registry covers it for every item."""
    return draft_flow.materials_page(request, BundleFilling(*_bundle_draft(request, public_id)))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@redirecting
def check(request: HttpRequest, public_id: str) -> HttpResponse:
    """Check the answers for every item, declare, submit them all at once."""
    bundle = bundle_selectors.bundle_for_owner(request.user, public_id)

    def submit(token: str) -> str:
        submitted = bundle_actions.bundle_submit(
            bundle_id=bundle.pk, user=user_of(request), idempotency_key=f"bundle:{token}"
        )
        return bundle_selectors.bundle_url(submitted)

    return draft_flow.check_page(
        request,
        pages=BundleFilling.pages,
        owner=bundle,
        load=lambda: BundleFilling(*_bundle_draft(request, public_id)),
        submit=submit,
    )


@never_cache
@login_required
@require_POST
@redirecting
def delete(request: HttpRequest, public_id: str) -> HttpResponse:
    return draft_flow.delete_page(request, BundleFilling(*_bundle_draft(request, public_id)))
