"""The applicant's pages: start, fill in step by step, materials, check your answers, submit, follow, track."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors as account_selectors
from accounts.decorators import staff_mfa_response
from approvals import access, forms_engine
from approvals.applications import actions, rules, selectors, submission, tracking
from approvals.materials import material_states, wallet
from approvals.models import Application, Channel, WorkflowTask
from approvals.pages import Redirect, file_response, redirecting, upgrade_url, user_of
from core import crypto
from core.addresses import client_address
from core.errors import DomainError, NotFound, PermissionDenied
from services.models import ServiceItem

SUBMIT_TOKEN_SESSION_KEY = "approvals_submit_tokens"  # noqa: S105  # a session key


def _draft(request: HttpRequest, public_id: str) -> Application:
    application = selectors.application_for_owner(request.user, public_id=public_id)
    bundle = application.bundle_application
    if bundle is not None and application.is_draft:
        raise Redirect(reverse("bundles:bundle", kwargs={"public_id": bundle.public_id}))
    if access.is_counter_draft(application):
        # The clerk recording a counter application works as staff: MFA as on every staff page.
        response = staff_mfa_response(request)
        if response is not None:
            raise Redirect(response["Location"])
    if not application.is_draft:
        if application.recorded_by_id == request.user.pk and application.channel == Channel.COUNTER:
            raise Redirect(reverse("approvals:counter_receipt", kwargs={"public_id": application.public_id}))
        if application.number:
            raise Redirect(reverse("approvals:application", kwargs={"number": application.number}))
        raise NotFound(_("No such application."))
    if application.service.status != ServiceItem.Status.PUBLISHED:
        application = actions.draft_follow_new_version(application_id=application.pk)
    return application


# --- start ---------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, code: str) -> HttpResponse:
    """Start an application for a service (or continue a draft of it)."""
    user = user_of(request)
    item = ServiceItem.objects.published().select_related("department").filter(implementation_code=code).first()
    if item is None or not rules.is_online(item):
        raise Http404
    acting_for = account_selectors.acting_for(request)
    back = request.get_full_path()
    refusal = rules.apply_problem(user=user, item=item, acting_for=acting_for)
    if refusal is not None and refusal.code == "real_name_level_too_low":
        messages.info(
            request,
            _("To apply for %(service)s your account needs real-name level %(level)s. Verify your identity first.")
            % {"service": item.name, "level": item.min_real_name_level},
        )
        return HttpResponseRedirect(upgrade_url(item, user, back))
    problem = str(refusal.message) if refusal is not None else ""
    if request.method == "POST" and not problem:
        try:
            application = actions.application_draft_start(
                user=user, service_code=code, acting_for=acting_for, minor_id_number=request.POST.get("minor", "")
            )
        except DomainError as error:
            if isinstance(error, NotFound):
                raise
            problem = str(error.message)
        else:
            return HttpResponseRedirect(reverse("approvals:draft", kwargs={"public_id": application.public_id}))
    # The children a parent may apply for: the registry is read (and logged) only when the parent asks.
    minors = (
        account_selectors.household_minors(user=user)
        if request.GET.get("for") == "minor" and acting_for is None and item.for_persons
        else []
    )
    drafts = [
        draft
        for draft in selectors.drafts_for_owner(user).filter(implementation_code=code)
        if draft.acting_for_id == (acting_for.pk if acting_for else None)
    ]
    context = {
        "item": item,
        "acting_for": acting_for,
        "problem": problem,
        "drafts": drafts,
        "minors": minors,
        "asked_for_minors": request.GET.get("for") == "minor",
        "materials": item.materials,
        "steps": forms_engine.form_steps(item.form_schema, item.form_ui),
    }
    return render(request, "approvals/start.html", context, status=409 if problem and request.method == "POST" else 200)


# --- the form, step by step ------------------------------------------------------


def _step_context(
    application: Application, steps: list[forms_engine.Step], index: int, values: dict[str, Any], errors: Any
) -> dict[str, Any]:
    prefilled_labels = {
        "population": _("Filled in from the population registry"),
        "legal_person": _("Filled in from the legal person registry"),
    }
    return {
        "application": application,
        "item": application.service,
        "steps": steps,
        "step": steps[index],
        "step_number": index + 1,
        "is_last_step": index == len(steps) - 1,
        "values": values,
        "errors": errors,
        "regions": forms_engine.county_choices(),
        "prefilled": {code: prefilled_labels.get(source, "") for code, source in application.prefilled.items()},
    }


@never_cache
@login_required
@require_http_methods(["GET"])
@redirecting
def draft(request: HttpRequest, public_id: str) -> HttpResponse:
    """A draft: where it stands, and the way back into it."""
    application = _draft(request, public_id)
    item = application.service
    steps = forms_engine.form_steps(item.form_schema, item.form_ui)
    problems = submission.submission_problems(application)
    step_status = [
        {"step": step, "is_complete": not any(key.split(".")[0] in {f.code for f in step.fields} for key in problems)}
        for step in steps
    ]
    context = {
        "application": application,
        "item": item,
        "step_status": step_status,
        "materials": material_states(application),
        "is_ready": not problems,
    }
    return render(request, "approvals/draft.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@redirecting
def draft_step(request: HttpRequest, public_id: str, step: int) -> HttpResponse:
    """One step of the form: show it, or check and save what was entered."""
    application = _draft(request, public_id)
    item = application.service
    steps = forms_engine.form_steps(item.form_schema, item.form_ui)
    if not 1 <= step <= len(steps):
        raise Http404
    index = step - 1
    current = steps[index]
    if request.method == "GET":
        values = dict(application.data)
        return render(request, "approvals/step.html", _step_context(application, steps, index, values, {}))
    posted, files = forms_engine.parse_step(current, request.POST, request.FILES)
    codes = [field.code for field in current.fields]
    values = {**application.data, **posted}
    for field in current.fields:
        if field.code not in posted and field.widget != "file":
            values.pop(field.code, None)
        if field.widget == "file" and field.code not in posted and not request.POST.get(f"{field.code}__keep"):
            values.pop(field.code, None)
    errors: dict[str, list[str]] = {}
    user = user_of(request)
    for code, upload in files.items():
        try:
            attachment = actions.attachment_add(
                application_id=application.pk, user=user, upload=upload, field_code=code
            )
        except DomainError as error:
            errors[code] = [str(error.message)]
        else:
            values[code] = str(attachment.public_id)
    if "add_row" in request.POST:
        # "Add another": show the step again with one more empty row; nothing is checked or saved yet.
        return render(request, "approvals/step.html", _step_context(application, steps, index, values, {}))
    errors.update(forms_engine.validate(item.form_schema, item.form_ui, values, only=codes))
    if errors:
        context = _step_context(application, steps, index, values, errors)
        return render(request, "approvals/step.html", context, status=400)
    update = {code: values.get(code) for code in codes}
    actions.application_draft_update(application_id=application.pk, user=user, data=update)
    if "save_and_leave" in request.POST:
        messages.success(request, _("Your answers are saved. You can come back to this draft at any time."))
        return HttpResponseRedirect(reverse("approvals:mine"))
    if index + 1 < len(steps):
        return HttpResponseRedirect(reverse("approvals:draft_step", kwargs={"public_id": public_id, "step": step + 1}))
    return HttpResponseRedirect(reverse("approvals:draft_materials", kwargs={"public_id": public_id}))


# --- materials -------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@redirecting
def draft_materials(request: HttpRequest, public_id: str) -> HttpResponse:
    """Upload each material, take it from the certificate wallet, or see that the registry covers it."""
    application = _draft(request, public_id)
    user = user_of(request)
    problem = ""
    field_errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        code = request.POST.get("material", "")
        try:
            if "remove" in request.POST:
                actions.attachment_remove(
                    application_id=application.pk, user=user, attachment_public_id=request.POST.get("remove", "")
                )
                messages.success(request, _("The file was removed."))
            elif request.POST.get("certificate"):
                actions.material_pick_certificate(
                    application_id=application.pk,
                    user=user,
                    material_code=code,
                    certificate_id=request.POST["certificate"],
                )
                messages.success(request, _("The certificate from your wallet will be used."))
            else:
                upload = request.FILES.get("file")
                if upload is None:
                    raise DomainError(_("Choose a file to upload."), code="validation_error")
                actions.attachment_add(application_id=application.pk, user=user, upload=upload, material_code=code)
                messages.success(request, _("The file was uploaded."))
            return HttpResponseRedirect(request.path)
        except NotFound:
            raise
        except DomainError as error:
            problem = str(error.message)
            field_errors[code] = problem
            status = 400
    states = material_states(application)
    picks = {
        state.code: wallet().certificates(user_id=user.pk, certificate_type=state.source.removeprefix("certificate:"))
        for state in states
        if state.source.startswith("certificate:")
    }
    context = {
        "application": application,
        "item": application.service,
        "materials": states,
        "wallet": picks,
        "problem": problem,
        "field_errors": field_errors,
        "max_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024),
        "steps": forms_engine.form_steps(application.service.form_schema, application.service.form_ui),
    }
    return render(request, "approvals/materials.html", context, status=status)


# --- check your answers and submit -------------------------------------------------


def _answers(application: Application) -> list[dict[str, Any]]:
    item = application.service
    steps = forms_engine.form_steps(item.form_schema, item.form_ui)
    shown = forms_engine.visible_data(item.form_ui, application.data)
    return [
        {
            "step": step,
            "rows": [
                {
                    "field": field,
                    "value": forms_engine.display_value(field, shown[field.code]) if field.code in shown else "",
                    "source": application.prefilled.get(field.code, ""),
                }
                for field in step.fields
                if field.code in shown or (field.is_required and not field.show_when)
            ],
        }
        for step in steps
    ]


def _issue_submit_token(request: HttpRequest, application: Application) -> str:
    tokens = dict(request.session.get(SUBMIT_TOKEN_SESSION_KEY, {}))
    token = tokens.get(str(application.public_id)) or secrets.token_urlsafe(24)
    tokens[str(application.public_id)] = token
    request.session[SUBMIT_TOKEN_SESSION_KEY] = tokens
    return token


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@redirecting
def draft_check(request: HttpRequest, public_id: str) -> HttpResponse:
    """Check your answers, declare, submit."""
    application = selectors.application_for_owner(request.user, public_id=public_id)
    user = user_of(request)
    if request.method == "POST":
        token = request.POST.get("submit_token", "")
        if not token or token != request.session.get(SUBMIT_TOKEN_SESSION_KEY, {}).get(str(application.public_id)):
            if application.number:
                # A second tab or a double click after the first succeeded: show the result of the first.
                _draft(request, public_id)  # redirects to the receipt or the application page
            messages.error(request, _("This page had expired. Check your answers and submit again."))
            return HttpResponseRedirect(request.path)
        if request.POST.get("declaration") != "yes":
            problems = {"declaration": [_("Confirm the declaration to submit.")]}
        else:
            try:
                application, _response = submission.application_submit(
                    application_id=application.pk,
                    user=user,
                    idempotency_key=f"form:{token}",
                    request_hash=submission.request_fingerprint({"form": str(application.public_id)}),
                )
            except DomainError as error:
                if error.code != "validation_error":
                    raise
                problems = error.fields or {"": [str(error.message)]}
            else:
                if application.channel == Channel.COUNTER and application.recorded_by_id == user.pk:
                    return HttpResponseRedirect(
                        reverse("approvals:counter_receipt", kwargs={"public_id": application.public_id})
                    )
                return HttpResponseRedirect(reverse("approvals:application", kwargs={"number": application.number}))
        application = _draft(request, public_id)
        context = _check_context(request, application, problems)
        return render(request, "approvals/check.html", context, status=400)
    application = _draft(request, public_id)
    return render(request, "approvals/check.html", _check_context(request, application, {}))


def _check_context(request: HttpRequest, application: Application, problems: dict[str, list[str]]) -> dict[str, Any]:
    item = application.service
    steps = forms_engine.form_steps(item.form_schema, item.form_ui)
    problems = problems or {}
    if request.method == "GET":
        problems = submission.submission_problems(application)
    labels = {field.code: (field.label, index + 1) for index, step in enumerate(steps) for field in step.fields}
    summary = []
    for key, texts in problems.items():
        head = key.split(".")[0]
        if head == "material":
            target = reverse("approvals:draft_materials", kwargs={"public_id": application.public_id})
            label = _("Materials")
        elif head in labels:
            label, number = labels[head]
            target = reverse("approvals:draft_step", kwargs={"public_id": application.public_id, "step": number})
        else:
            label, target = "", "#declaration"
        for text in texts:
            summary.append({"label": label, "text": text, "url": target})
    return {
        "application": application,
        "item": item,
        "answers": _answers(application),
        "materials": material_states(application),
        "problems": summary,
        "declaration_error": (problems.get("declaration") or [""])[0],
        "submit_token": _issue_submit_token(request, application),
    }


@never_cache
@login_required
@require_POST
@redirecting
def draft_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    application = _draft(request, public_id)
    actions.application_draft_delete(application_id=application.pk, user=user_of(request))
    messages.success(request, _("The draft was deleted."))
    return HttpResponseRedirect(reverse("approvals:mine"))


# --- after submission ------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET"])
def mine(request: HttpRequest) -> HttpResponse:
    """My applications and my drafts."""
    user = user_of(request)
    scopes = account_selectors.enterprise_scopes(user)  # read once for the applications and the bundles
    mine = selectors.applications_for_owner(user, scopes=scopes)  # the scope is worked out once for both lists
    paginator = Paginator(mine.exclude(status=Application.Status.DRAFT), 20)
    page = paginator.get_page(request.GET.get("page"))
    # A draft that is part of a 一件事 is filled in on the bundle's pages, listed below as the bundle.
    drafts = mine.filter(status=Application.Status.DRAFT, bundle_application__isnull=True)
    drafts = drafts.order_by("-updated_at", "-pk")
    context = {"page": page, "drafts": list(drafts[:50]), "bundles": selectors.bundles_of_owner(user, scopes=scopes)}
    return render(request, "approvals/mine.html", context)


@never_cache
@login_required
@require_http_methods(["GET"])
def application(request: HttpRequest, number: str) -> HttpResponse:
    """One application: status, what to do next, query password, materials, and the whole timeline."""
    application = selectors.application_for_owner(request.user, number=number)
    context = {
        "application": application,
        "item": application.service,
        "query_password": crypto.decrypt(application.query_password_encrypted)
        if application.query_password_encrypted
        else "",
        "events": selectors.timeline(application),
        "answers": _answers(application),
        "materials": material_states(application),
        "tasks": list(
            application.tasks.filter(status__in=WorkflowTask.OPEN).select_related("department").order_by("due_at")
        ),
    }
    return render(request, "approvals/application.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, number: str) -> HttpResponse:
    """Confirm, then withdraw the application."""
    application = selectors.application_for_owner(request.user, number=number)
    if request.method == "POST":
        submission.application_withdraw(
            application_id=application.pk, user=user_of(request), reason=request.POST.get("reason", "")[:500]
        )
        messages.success(request, _("Your application was withdrawn."))
        return HttpResponseRedirect(reverse("approvals:application", kwargs={"number": number}))
    if not application.can_withdraw:
        raise PermissionDenied(_("This application can no longer be withdrawn."), code="wrong_status")
    return render(request, "approvals/withdraw.html", {"application": application, "item": application.service})


def _error_anchor(key: str) -> str:
    """Where an error's link in the summary goes: the file input of a material, or the form field."""
    if key.startswith("material."):
        return f"#file-{key.removeprefix('material.')}"
    return f"#field-{slugify(key)}"


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def supplement(request: HttpRequest, number: str) -> HttpResponse:
    """补正: see exactly what the department asks for, change only that, send it back."""
    application = selectors.application_for_owner(request.user, number=number)
    if not application.awaits_supplement:
        return HttpResponseRedirect(reverse("approvals:application", kwargs={"number": number}))
    user = user_of(request)
    item = application.service
    request_data = application.supplement_request
    asked = set(request_data.get("fields") or [])
    steps = forms_engine.form_steps(item.form_schema, item.form_ui)
    fields = tuple(field for step in steps for field in step.fields if field.code in asked)
    asked_step = forms_engine.Step(index=0, title=_("What the department asks for"), fields=fields)
    values = dict(application.data)
    errors: dict[str, list[str]] = {}
    problem = ""
    status = 200
    if request.method == "POST":
        # One form: the new files and the changed answers go together, so nothing typed is lost to an upload.
        for code in request_data.get("materials") or []:
            upload = request.FILES.get(f"file__{code}")
            if upload is None:
                continue
            try:
                actions.attachment_add(application_id=application.pk, user=user, upload=upload, material_code=code)
            except NotFound:
                raise
            except DomainError as error:
                errors[f"material.{code}"] = [str(error.message)]
        posted, _files = forms_engine.parse_step(asked_step, request.POST, request.FILES)
        changes = {field.code: posted.get(field.code) for field in fields}
        values.update({code: value for code, value in changes.items() if value is not None})
        if errors:
            problem, status = _("A file could not be taken; nothing was sent yet."), 400
        else:
            try:
                submission.application_supplement(application_id=application.pk, user=user, data=changes)
            except DomainError as error:
                if error.code not in {"validation_error", "not_requested"}:
                    raise
                errors = error.fields or {}
                problem, status = str(error.message), 400
            else:
                messages.success(request, _("Thank you. The department will continue with your application."))
                return HttpResponseRedirect(reverse("approvals:application", kwargs={"number": number}))
    asked_materials = [
        state for state in material_states(application) if state.code in (request_data.get("materials") or [])
    ]
    context = {
        "application": application,
        "item": item,
        "note": request_data.get("note", ""),
        "step": asked_step,
        "values": values,
        "errors": errors,
        "problem": problem,
        "regions": forms_engine.county_choices(),
        "prefilled": {},
        "materials": asked_materials,
        "material_errors": {
            key.removeprefix("material."): texts for key, texts in errors.items() if key.startswith("material.")
        },
        "summary": [(text, _error_anchor(key)) for key, texts in errors.items() for text in texts],
        "max_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024),
    }
    return render(request, "approvals/supplement.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET"])
def attachment_download(request: HttpRequest, public_id: str) -> FileResponse:
    """A file of one of the user's applications, to its owner only."""
    attachment = selectors.attachment_for_owner(request.user, public_id=public_id)
    return file_response(attachment.storage_key, attachment.content_type, attachment.original_name)


# --- public tracking -------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    """办件查询: number and query password, posted (never in a URL), rate-limited; no personal data shown."""
    context: dict[str, Any] = {"number": "", "problem": "", "application": None, "events": []}
    status = 200
    if request.method == "POST":
        number = request.POST.get("number", "").strip().upper()
        password = request.POST.get("password", "").strip()
        context["number"] = number
        outcome = tracking.track(number=number, password=password, address=client_address(request))
        if outcome.application is None:
            context["problem"] = outcome.message
            status = 429 if outcome.is_limited else 404
        else:
            context["application"] = outcome.application
            context["events"] = tracking.public_timeline(outcome.application)
    return render(request, "approvals/track.html", context, status=status)
