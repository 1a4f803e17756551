"""The applicant's pages of a 一件事 bundle: start, one form step by step, materials once, check, submit, follow."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors as account_selectors
from approvals import forms_engine
from approvals.applications import actions, rules
from approvals.bundles import actions as bundle_actions
from approvals.bundles import form as bundle_form
from approvals.bundles import selectors as bundle_selectors
from approvals.materials import wallet
from approvals.models import Application, BundleApplication
from approvals.pages import Redirect, redirecting, upgrade_url, user_of
from core.errors import DomainError, NotFound
from services import selectors as service_selectors
from services.models import ServiceItem

SUBMIT_TOKEN_SESSION_KEY = "bundles_submit_tokens"  # noqa: S105  # a session key


def _bundle_draft(request: HttpRequest, public_id: str) -> tuple[BundleApplication, list[Application]]:
    """The user's bundle draft and its children (moved to new versions of their items where needed)."""
    bundle = bundle_selectors.bundle_for_owner(request.user, public_id)
    if not bundle.is_draft:
        raise Redirect(bundle_selectors.bundle_url(bundle))
    children = bundle_selectors.bundle_children(bundle)
    if any(child.service.status != ServiceItem.Status.PUBLISHED for child in children):
        for child in children:
            if child.service.status != ServiceItem.Status.PUBLISHED:
                actions.draft_follow_new_version(application_id=child.pk)
        children = bundle_selectors.bundle_children(bundle)
    return bundle, children


def _steps(children: list[Application]) -> list[forms_engine.Step]:
    return bundle_form.form_steps(child.service for child in children)


def _prefilled_notes(prefilled: dict[str, str]) -> dict[str, str]:
    labels = {
        "population": _("Filled in from the population registry"),
        "legal_person": _("Filled in from the legal person registry"),
    }
    return {code: labels.get(source, "") for code, source in prefilled.items()}


def _problem_summary(
    bundle: BundleApplication, steps: list[forms_engine.Step], problems: dict[str, list[str]]
) -> list[dict[str, str]]:
    """Each problem with the label of its field and a link to the step (or the materials) that fixes it."""
    labels = {field.code: (field.label, step.index + 1) for step in steps for field in step.fields}
    summary: list[dict[str, str]] = []
    for key, texts in problems.items():
        head = key.split(".")[0]
        if head == "material":
            label = _("Materials")
            target = reverse("bundles:materials", kwargs={"public_id": bundle.public_id})
        elif head in labels:
            label, number = labels[head]
            target = reverse("bundles:step", kwargs={"public_id": bundle.public_id, "step": number})
        else:
            label, target = "", "#declaration"
        summary.extend({"label": label, "text": text, "url": target} for text in texts)
    return summary


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
    acting_for = account_selectors.acting_for(request)
    strictest = max(items, key=lambda item: item.min_real_name_level)
    if user.real_name_level < rules.needed_level(strictest):
        messages.info(
            request,
            _("To apply for %(service)s your account needs real-name level %(level)s. Verify your identity first.")
            % {"service": bundle.name, "level": rules.needed_level(strictest)},
        )
        return HttpResponseRedirect(upgrade_url(strictest, user, request.get_full_path()))
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
        "materials": bundle_form.materials_of_items(items),
        "steps": bundle_form.form_steps(items),
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
        context = {
            "bundle": application,
            "children": bundle_selectors.bundle_children(application),
            "events": bundle_selectors.bundle_timeline(application),
        }
        return render(request, "approvals/bundle_application.html", context)
    application, children = _bundle_draft(request, public_id)
    steps = _steps(children)
    problems = bundle_form.submission_problems(children)
    failing = {key.split(".")[0] for key in problems}
    context = {
        "bundle": application,
        "children": children,
        "step_status": [
            {"step": step, "is_complete": not any(field.code in failing for field in step.fields)} for step in steps
        ],
        "materials": bundle_form.material_states(children),
        "is_ready": not problems,
    }
    return render(request, "approvals/bundle_draft.html", context)


# --- the one form, step by step -------------------------------------------------------


def _step_context(
    bundle: BundleApplication,
    children: list[Application],
    steps: list[forms_engine.Step],
    index: int,
    values: dict[str, Any],
    errors: dict[str, list[str]],
) -> dict[str, Any]:
    return {
        "bundle": bundle,
        "children": children,
        "steps": steps,
        "step": steps[index],
        "step_number": index + 1,
        "is_last_step": index == len(steps) - 1,
        "values": values,
        "errors": errors,
        "regions": forms_engine.county_choices(),
        "prefilled": _prefilled_notes(bundle_form.merged_prefilled(children)),
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@redirecting
def step(request: HttpRequest, public_id: str, step: int) -> HttpResponse:
    """One step of the bundle's one form: each answer is checked by every item that asks it, and saved into each."""
    bundle, children = _bundle_draft(request, public_id)
    steps = _steps(children)
    if not 1 <= step <= len(steps):
        raise Http404
    index = step - 1
    current = steps[index]
    if request.method == "GET":
        values = bundle_form.merged_data(children)
        return render(request, "approvals/bundle_step.html", _step_context(bundle, children, steps, index, values, {}))
    posted, files = forms_engine.parse_step(current, request.POST, request.FILES)
    values = {**bundle_form.merged_data(children), **posted}
    codes = [field.code for field in current.fields]
    # A file field already uploaded and kept, or uploaded now, holds each child's own file: it is not posted again.
    unchanged_files = set()
    for field in current.fields:
        if field.widget == "file":
            if field.code in files or request.POST.get(f"{field.code}__keep"):
                unchanged_files.add(field.code)
            else:
                values.pop(field.code, None)
        elif field.code not in posted:
            values.pop(field.code, None)
    errors: dict[str, list[str]] = {}
    user = user_of(request)
    for code, upload in files.items():
        try:
            stored = bundle_actions.bundle_attachment_add(
                bundle_id=bundle.pk, user=user, upload=upload, field_code=code
            )
        except DomainError as error:
            errors[code] = [str(error.message)]
            unchanged_files.discard(code)
            values.pop(code, None)
        else:
            values[code] = str(stored[0].public_id)
    if files:
        children = bundle_selectors.bundle_children(bundle)  # the uploads wrote each child's own file id
    if "add_row" in request.POST:
        # "Add another": show the step again with one more empty row; nothing is checked or saved yet.
        return render(request, "approvals/bundle_step.html", _step_context(bundle, children, steps, index, values, {}))
    changes = {code: values.get(code) for code in codes if code not in unchanged_files}
    for code, messages_of_code in bundle_form.validate_answers(children, changes, only=codes).items():
        errors.setdefault(code, messages_of_code)
    if errors:
        context = _step_context(bundle, children, steps, index, values, errors)
        return render(request, "approvals/bundle_step.html", context, status=400)
    bundle_actions.bundle_draft_update(bundle_id=bundle.pk, user=user, data=changes)
    if "save_and_leave" in request.POST:
        messages.success(request, _("Your answers are saved. You can come back to this draft at any time."))
        return HttpResponseRedirect(bundle_selectors.bundle_url(bundle))
    if index + 1 < len(steps):
        return HttpResponseRedirect(reverse("bundles:step", kwargs={"public_id": public_id, "step": step + 1}))
    return HttpResponseRedirect(reverse("bundles:materials", kwargs={"public_id": public_id}))


# --- materials, once for every item ------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@redirecting
def materials(request: HttpRequest, public_id: str) -> HttpResponse:
    """Each material once: an upload, a certificate from the wallet, or the registry covers it for every item."""
    bundle, children = _bundle_draft(request, public_id)
    user = user_of(request)
    problem = ""
    field_errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        code = request.POST.get("material", "")
        try:
            if "remove" in request.POST:
                bundle_actions.bundle_attachment_remove(bundle_id=bundle.pk, user=user, material_code=code)
                messages.success(request, _("The file was removed."))
            elif request.POST.get("certificate"):
                bundle_actions.bundle_material_pick_certificate(
                    bundle_id=bundle.pk, user=user, material_code=code, certificate_id=request.POST["certificate"]
                )
                messages.success(request, _("The certificate from your wallet will be used."))
            else:
                upload = request.FILES.get("file")
                if upload is None:
                    raise DomainError(_("Choose a file to upload."), code="validation_error")
                bundle_actions.bundle_attachment_add(bundle_id=bundle.pk, user=user, upload=upload, material_code=code)
                messages.success(request, _("The file was uploaded."))
            return HttpResponseRedirect(request.path)
        except NotFound:
            raise
        except DomainError as error:
            problem = str(error.message)
            field_errors[code] = problem
            status = 400
    states = bundle_form.material_states(children)
    picks = {
        state.code: wallet().certificates(user_id=user.pk, certificate_type=state.source.removeprefix("certificate:"))
        for state in states
        if state.source.startswith("certificate:")
    }
    context = {
        "bundle": bundle,
        "materials": states,
        "wallet": picks,
        "problem": problem,
        "field_errors": field_errors,
        "max_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024),
        "steps": _steps(children),
    }
    return render(request, "approvals/bundle_materials.html", context, status=status)


# --- check your answers and submit ---------------------------------------------------------


def _answers(steps: list[forms_engine.Step], data: dict[str, Any], prefilled: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "step": each,
            "rows": [
                {
                    "field": field,
                    "value": forms_engine.display_value(field, data[field.code]) if field.code in data else "",
                    "source": prefilled.get(field.code, ""),
                }
                for field in each.fields
                if field.code in data or (field.is_required and not field.show_when)
            ],
        }
        for each in steps
    ]


def _issue_submit_token(request: HttpRequest, bundle: BundleApplication) -> str:
    tokens = dict(request.session.get(SUBMIT_TOKEN_SESSION_KEY, {}))
    token = tokens.get(str(bundle.public_id)) or secrets.token_urlsafe(24)
    tokens[str(bundle.public_id)] = token
    request.session[SUBMIT_TOKEN_SESSION_KEY] = tokens
    return token


def _check_context(
    request: HttpRequest, bundle: BundleApplication, children: list[Application], problems: dict[str, list[str]]
) -> dict[str, Any]:
    steps = _steps(children)
    if request.method == "GET":
        problems = bundle_form.submission_problems(children)
    # Each child shows only what its own form shows now (a condition may hide an answer).
    data: dict[str, Any] = {}
    for child in children:
        for code, value in forms_engine.visible_data(child.service.form_ui, child.data).items():
            data.setdefault(code, value)
    return {
        "bundle": bundle,
        "children": children,
        "steps": steps,
        "answers": _answers(steps, data, bundle_form.merged_prefilled(children)),
        "materials": bundle_form.material_states(children),
        "problems": _problem_summary(bundle, steps, problems),
        "declaration_error": (problems.get("declaration") or [""])[0],
        "submit_token": _issue_submit_token(request, bundle),
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@redirecting
def check(request: HttpRequest, public_id: str) -> HttpResponse:
    """Check the answers for every item, declare, submit them all at once."""
    bundle = bundle_selectors.bundle_for_owner(request.user, public_id)
    if request.method == "POST":
        token = request.POST.get("submit_token", "")
        if not token or token != request.session.get(SUBMIT_TOKEN_SESSION_KEY, {}).get(str(bundle.public_id)):
            if not bundle.is_draft:
                # A second tab or a double click after the first succeeded: the bundle's page.
                return HttpResponseRedirect(bundle_selectors.bundle_url(bundle))
            messages.error(request, _("This page had expired. Check your answers and submit again."))
            return HttpResponseRedirect(request.path)
        problems: dict[str, list[str]]
        if request.POST.get("declaration") != "yes":
            problems = {"declaration": [_("Confirm the declaration to submit.")]}
        else:
            try:
                bundle = bundle_actions.bundle_submit(
                    bundle_id=bundle.pk, user=user_of(request), idempotency_key=f"bundle:{token}"
                )
            except DomainError as error:
                if error.code != "validation_error":
                    raise
                problems = error.fields or {"": [str(error.message)]}
            else:
                return HttpResponseRedirect(bundle_selectors.bundle_url(bundle))
        bundle, children = _bundle_draft(request, public_id)
        return render(
            request, "approvals/bundle_check.html", _check_context(request, bundle, children, problems), status=400
        )
    bundle, children = _bundle_draft(request, public_id)
    return render(request, "approvals/bundle_check.html", _check_context(request, bundle, children, {}))


@never_cache
@login_required
@require_POST
@redirecting
def delete(request: HttpRequest, public_id: str) -> HttpResponse:
    bundle, _children = _bundle_draft(request, public_id)
    bundle_actions.bundle_draft_delete(bundle_id=bundle.pk, user=user_of(request))
    messages.success(request, _("The draft was deleted."))
    return HttpResponseRedirect(reverse("approvals:mine"))
