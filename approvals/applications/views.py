"""The applicant's pages: start, fill in step by step, materials, check your answers, submit, follow, track."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
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
from accounts.models import User
from approvals import access, forms_engine, timeline
from approvals.applications import actions, draft_flow, parties, rules, selectors, submission, tracking
from approvals.materials import material_states
from approvals.models import Application, Channel, WorkflowTask
from approvals.pages import Redirect, file_response, redirecting, upgrade_url, user_of
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
            _("To apply for %(service)s your account needs %(level)s. Verify your identity first.")
            % {"service": item.name, "level": rules.level_label(rules.needed_level(item))},
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


# --- the draft: overview, the form step by step, materials, check and submit ----------


class DraftFilling(draft_flow.Filling):
    """One application's draft, filled in on its own pages."""

    pages = draft_flow.Pages("approvals:draft_", SUBMIT_TOKEN_SESSION_KEY)

    def __init__(self, application: Application) -> None:
        name, leave_url = application.service.name, reverse("approvals:mine")
        super().__init__(application, [application], name=name, leave_url=leave_url)
        self.application = application

    def attach(self, *, user: User, upload: UploadedFile, material_code: str = "", field_code: str = "") -> str:
        attachment = actions.attachment_add(
            application_id=self.application.pk,
            user=user,
            upload=upload,
            material_code=material_code,
            field_code=field_code,
        )
        return str(attachment.public_id)

    def remove_material(self, *, user: User, material_code: str, attachment_id: str) -> None:
        actions.attachment_remove(application_id=self.application.pk, user=user, attachment_public_id=attachment_id)

    def pick_certificate(self, *, user: User, material_code: str, certificate_id: str) -> None:
        actions.material_pick_certificate(
            application_id=self.application.pk, user=user, material_code=material_code, certificate_id=certificate_id
        )

    def save(self, *, user: User, changes: dict[str, Any]) -> None:
        actions.application_draft_update(application_id=self.application.pk, user=user, data=changes)

    def delete(self, *, user: User) -> None:
        actions.application_draft_delete(application_id=self.application.pk, user=user)


@never_cache
@login_required
@require_http_methods(["GET"])
@redirecting
def draft(request: HttpRequest, public_id: str) -> HttpResponse:
    """A draft: where it stands, and the way back into it."""
    return draft_flow.overview_page(request, DraftFilling(_draft(request, public_id)))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@redirecting
def draft_step(request: HttpRequest, public_id: str, step: int) -> HttpResponse:
    """One step of the form: show it, or check and save what was entered."""
    return draft_flow.step_page(request, DraftFilling(_draft(request, public_id)), step)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@redirecting
def draft_materials(request: HttpRequest, public_id: str) -> HttpResponse:
    """Upload each material, take it from the certificate wallet, or see that the registry covers it."""
    return draft_flow.materials_page(request, DraftFilling(_draft(request, public_id)))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@redirecting
def draft_check(request: HttpRequest, public_id: str) -> HttpResponse:
    """Check your answers, declare, submit."""
    application = selectors.application_for_owner(request.user, public_id=public_id)
    user = user_of(request)

    def submit(token: str) -> str:
        submitted, _response = submission.application_submit(
            application_id=application.pk,
            user=user,
            idempotency_key=f"form:{token}",
            request_hash=submission.request_fingerprint({"form": str(application.public_id)}),
        )
        if submitted.channel == Channel.COUNTER and submitted.recorded_by_id == user.pk:
            return reverse("approvals:counter_receipt", kwargs={"public_id": submitted.public_id})
        return reverse("approvals:application", kwargs={"number": submitted.number})

    return draft_flow.check_page(
        request,
        pages=DraftFilling.pages,
        owner=application,
        load=lambda: DraftFilling(_draft(request, public_id)),
        submit=submit,
    )


@never_cache
@login_required
@require_POST
@redirecting
def draft_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    return draft_flow.delete_page(request, DraftFilling(_draft(request, public_id)))


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
    events = selectors.timeline(application)
    context = {
        "application": application,
        "item": application.service,
        "query_password": selectors.query_password(application),
        "events": events,
        "timeline": timeline.entries(events),
        "awaited": selectors.awaited_names(application),
        "answers": draft_flow.application_answers(application, viewer=user_of(request)),
        "parties": [(parties.role_label(party.role), party) for party in parties.parties_of(application)],
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
