"""The applicant's one draft-form flow: the overview, the form step by step, the materials, check and submit.

What is filled in is a ``Filling``: one draft, or the drafts of a 一件事 bundle under their one merged form
(a single application is a bundle of one here). Its pages differ only in their addresses (``Pages``), in
the writes behind them (a ``Filling`` subclass in the view module of each) and in a few sentences the
templates show when ``flow.is_bundle``.
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from django.conf import settings
from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from approvals import forms_engine
from approvals.applications import answer_privacy, merged_form
from approvals.materials import MaterialState, material_states_of, wallet
from approvals.models import Application, BundleApplication
from approvals.pages import user_of
from core.errors import DomainError, NotFound

Errors = dict[str, list[str]]


class Pages:
    """The url names of a filling's pages, named by their prefix, and the session key of its submit tokens."""

    def __init__(self, prefix: str, token_session_key: str) -> None:
        self.step, self.materials, self.check, self.delete = (
            f"{prefix}{page}" for page in ("step", "materials", "check", "delete")
        )
        self.token_session_key = token_session_key


class Filling(ABC):
    """What the applicant fills in: drafts under one form, and the writes that save into them."""

    pages: ClassVar[Pages]

    def __init__(
        self, owner: Application | BundleApplication, drafts: list[Application], *, name: str, leave_url: str
    ) -> None:
        self.owner = owner
        self.drafts = drafts
        self.name = name  # what the pages call it: the service's name, or the bundle's
        self.leave_url = leave_url  # where "save and come back later" goes

    @property
    def is_bundle(self) -> bool:
        return isinstance(self.owner, BundleApplication)

    @property
    def public_id(self) -> str:
        return str(self.owner.public_id)

    def url(self, page: str, *args: Any) -> str:
        return reverse(getattr(self.pages, page), args=[self.public_id, *args])

    def steps(self) -> list[forms_engine.Step]:
        return merged_form.form_steps(draft.service for draft in self.drafts)

    def values(self) -> dict[str, Any]:
        return merged_form.merged_data(self.drafts)

    def material_states(self) -> list[MaterialState]:
        return material_states_of(self.drafts)

    def problems(self) -> Errors:
        return merged_form.submission_problems(self.drafts)

    def reload(self) -> None:
        """Read the drafts again after a write that went to each (a file field's upload)."""
        for draft in self.drafts:
            draft.refresh_from_db()

    @abstractmethod
    def attach(self, *, user: User, upload: UploadedFile, material_code: str = "", field_code: str = "") -> str:
        """Keep the file of a material or of a file field; the id that is a file field's answer."""

    @abstractmethod
    def remove_material(self, *, user: User, material_code: str, attachment_id: str) -> None: ...

    @abstractmethod
    def pick_certificate(self, *, user: User, material_code: str, certificate_id: str) -> None: ...

    @abstractmethod
    def save(self, *, user: User, changes: dict[str, Any]) -> None:
        """Save answers (an empty one clears the field)."""

    @abstractmethod
    def delete(self, *, user: User) -> None:
        """Throw the drafts away, with their files."""


# --- the answers, as the check page, the application page and the workbench show them ------------------


def shown_answers(drafts: Sequence[Application], *, viewer: User | None = None) -> dict[str, Any]:
    """The answers as the form shows them now: a field whose condition is false is no answer.

    Each draft hides what its own form hides; a field several drafts ask for shows the first answer.
    With a ``viewer`` (an applicant's page), another person's ID number is masked (``answer_privacy``);
    without one the answers are whole, for the staff handling the application (whose view is logged).
    """
    return merged_form.first_of_each(
        forms_engine.visible_data(
            draft.service.form_ui, draft.data if viewer is None else answer_privacy.answers_for_viewer(draft, viewer)
        )
        for draft in drafts
    )


def answer_groups(
    steps: list[forms_engine.Step],
    drafts: Sequence[Application],
    *,
    step_url: Callable[[int], str] | None = None,
    viewer: User | None = None,
) -> list[dict[str, Any]]:
    """Each step's answers as text, with a required field left unanswered (unless a condition may hide it)."""
    data = shown_answers(drafts, viewer=viewer)
    prefilled = merged_form.merged_prefilled(drafts)
    return [
        {
            "step": step,
            "url": step_url(step.index + 1) if step_url is not None else "",
            "rows": [
                {
                    "field": field,
                    "value": forms_engine.display_value(field, data[field.code]) if field.code in data else "",
                    "source": prefilled.get(field.code, ""),
                }
                for field in step.fields
                if field.code in data or (field.is_required and not field.show_when)
            ],
        }
        for step in steps
    ]


def application_answers(application: Application, *, viewer: User | None = None) -> list[dict[str, Any]]:
    """Every answer of one application, step by step, as text (the form's own labels); ``viewer`` as in
    ``shown_answers``."""
    item = application.service
    return answer_groups(forms_engine.form_steps(item.form_schema, item.form_ui), [application], viewer=viewer)


# --- the pages ---------------------------------------------------------------------------------


def overview_page(request: HttpRequest, filling: Filling) -> HttpResponse:
    """A draft: where it stands, and the way back into it."""
    problems = filling.problems()
    failing = {key.split(".")[0] for key in problems}
    step_status = [
        {"step": step, "is_complete": not any(field.code in failing for field in step.fields)}
        for step in filling.steps()
    ]
    context = {
        "flow": filling,
        "step_status": step_status,
        "materials": filling.material_states(),
        "is_ready": not problems,
    }
    return render(request, "approvals/draft.html", context)


def _prefilled_notes(prefilled: dict[str, str]) -> dict[str, str]:
    labels = {
        "population": _("Filled in from the population registry"),
        "legal_person": _("Filled in from the legal person registry"),
        "account": _("Filled in from your account (the number you confirmed by SMS)"),
    }
    return {code: labels.get(source, "") for code, source in prefilled.items()}


def _step_page(
    request: HttpRequest,
    filling: Filling,
    steps: list[forms_engine.Step],
    index: int,
    values: dict[str, Any],
    errors: Errors,
) -> HttpResponse:
    context = {
        "flow": filling,
        "steps": steps,
        "step": steps[index],
        "step_number": index + 1,
        "is_last_step": index == len(steps) - 1,
        "values": values,
        "errors": errors,
        "regions": forms_engine.county_choices(),
        "prefilled": _prefilled_notes(merged_form.merged_prefilled(filling.drafts)),
    }
    return render(request, "approvals/step.html", context, status=400 if errors else 200)


def step_page(request: HttpRequest, filling: Filling, number: int) -> HttpResponse:
    """One step of the form: show it, or check and save what was entered (into every draft that asks it)."""
    steps = filling.steps()
    if not 1 <= number <= len(steps):
        raise Http404
    index = number - 1
    current = steps[index]
    stored = filling.values()
    shown = answer_privacy.masked_for_viewer(
        stored,
        form_uis=[draft.service.form_ui for draft in filling.drafts],
        applicant_id=filling.drafts[0].applicant_id if filling.drafts else None,
        viewer=user_of(request),
    )
    if request.method == "GET":
        return _step_page(request, filling, steps, index, shown, {})
    posted, files = forms_engine.parse_step(current, request.POST, request.FILES)
    posted = answer_privacy.unmasked(posted, stored=stored, shown=shown)
    values = {**shown, **posted}
    codes = [field.code for field in current.fields]
    # A file field already uploaded and kept, or uploaded now, holds each draft's own file: it is not posted again.
    unchanged_files = set()
    for field in current.fields:
        if field.widget == "file":
            if field.code in files or request.POST.get(f"{field.code}__keep"):
                unchanged_files.add(field.code)
            else:
                values.pop(field.code, None)
        elif field.code not in posted:
            values.pop(field.code, None)
    errors: Errors = {}
    user = user_of(request)
    for code, upload in files.items():
        try:
            values[code] = filling.attach(user=user, upload=upload, field_code=code)
        except DomainError as error:
            errors[code] = [str(error.message)]
            unchanged_files.discard(code)
            values.pop(code, None)
    if files:
        filling.reload()  # the uploads wrote each draft's own file id
    if "add_row" in request.POST:
        # "Add another": show the step again with one more empty row; nothing is checked or saved yet.
        return _step_page(
            request, filling, steps, index, answer_privacy.kept_masked(values, stored=stored, shown=shown), {}
        )
    changes = {code: values.get(code) for code in codes if code not in unchanged_files}
    for code, texts in merged_form.validate_answers(filling.drafts, changes, only=codes).items():
        errors.setdefault(code, texts)
    if errors:
        return _step_page(
            request, filling, steps, index, answer_privacy.kept_masked(values, stored=stored, shown=shown), errors
        )
    filling.save(user=user, changes=changes)
    if "save_and_leave" in request.POST:
        messages.success(request, _("Your answers are saved. You can come back to this draft at any time."))
        return HttpResponseRedirect(filling.leave_url)
    if index + 1 < len(steps):
        return HttpResponseRedirect(filling.url("step", number + 1))
    return HttpResponseRedirect(filling.url("materials"))


def materials_page(request: HttpRequest, filling: Filling) -> HttpResponse:
    """Each material once: an upload, a certificate from the wallet, or the registry covers it."""
    user = user_of(request)
    problem = ""
    field_errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        code = request.POST.get("material", "")
        try:
            if "remove" in request.POST:
                filling.remove_material(user=user, material_code=code, attachment_id=request.POST.get("remove", ""))
                messages.success(request, _("The file was removed."))
            elif request.POST.get("certificate"):
                filling.pick_certificate(user=user, material_code=code, certificate_id=request.POST["certificate"])
                messages.success(request, _("The certificate from your wallet will be used."))
            else:
                upload = request.FILES.get("file")
                if upload is None:
                    raise DomainError(_("Choose a file to upload."), code="validation_error")
                filling.attach(user=user, upload=upload, material_code=code)
                messages.success(request, _("The file was uploaded."))
            return HttpResponseRedirect(request.path)
        except NotFound:
            raise
        except DomainError as error:
            problem = str(error.message)
            field_errors[code] = problem
            status = 400
    states = filling.material_states()
    picks = {
        state.code: wallet().certificates(user_id=user.pk, certificate_type=state.source.removeprefix("certificate:"))
        for state in states
        if state.source.startswith("certificate:")
    }
    context = {
        "flow": filling,
        "materials": states,
        "wallet": picks,
        "problem": problem,
        "field_errors": field_errors,
        "max_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024),
        "steps": filling.steps(),
    }
    return render(request, "approvals/materials.html", context, status=status)


# --- check and submit --------------------------------------------------------------------------


def _problem_summary(filling: Filling, steps: list[forms_engine.Step], problems: Errors) -> list[dict[str, str]]:
    """Each problem with the label of its field and a link to the step (or the materials) that fixes it."""
    labels = {field.code: (field.label, step.index + 1) for step in steps for field in step.fields}
    summary: list[dict[str, str]] = []
    for key, texts in problems.items():
        head = key.split(".")[0]
        if head == "material":
            label, target = _("Materials"), filling.url("materials")
        elif head in labels:
            label, number = labels[head]
            target = filling.url("step", number)
        else:
            label, target = "", "#declaration"
        summary.extend({"label": label, "text": text, "url": target} for text in texts)
    return summary


def _issue_submit_token(request: HttpRequest, filling: Filling) -> str:
    """The one-time token of the check page's form: a second post of it (another tab, a double click) is refused."""
    key = filling.pages.token_session_key
    tokens = dict(request.session.get(key, {}))
    token = tokens.get(filling.public_id) or secrets.token_urlsafe(24)
    tokens[filling.public_id] = token
    request.session[key] = tokens
    return token


def _check_page(request: HttpRequest, filling: Filling, problems: Errors, *, status: int = 200) -> HttpResponse:
    steps = filling.steps()
    if request.method == "GET":
        problems = filling.problems()
    context = {
        "flow": filling,
        "steps": steps,
        # A bundle's answers are changed through the list of steps: one answer may belong to several services.
        "answers": answer_groups(
            steps,
            filling.drafts,
            step_url=None if filling.is_bundle else lambda number: filling.url("step", number),
            viewer=user_of(request),
        ),
        "materials": filling.material_states(),
        "problems": _problem_summary(filling, steps, problems),
        "declaration_error": (problems.get("declaration") or [""])[0],
        "submit_token": _issue_submit_token(request, filling),
    }
    return render(request, "approvals/check.html", context, status=status)


def check_page(
    request: HttpRequest,
    *,
    pages: Pages,
    owner: Application | BundleApplication,
    load: Callable[[], Filling],
    submit: Callable[[str], str],
) -> HttpResponse:
    """Check the answers, declare, submit once.

    ``owner`` is what the check page is of, as it stands (a draft, or submitted from another tab);
    ``load`` reads its drafts for the page (and redirects from one that is no draft any more);
    ``submit`` submits with the page's token and tells where to go next.
    """
    if request.method == "GET":
        return _check_page(request, load(), {})
    token = request.POST.get("submit_token", "")
    if not token or token != request.session.get(pages.token_session_key, {}).get(str(owner.public_id)):
        if not owner.is_draft:
            # A second tab or a double click after the first succeeded: ``load`` redirects to what came of it.
            load()
        messages.error(request, _("This page had expired. Check your answers and submit again."))
        return HttpResponseRedirect(request.path)
    problems: Errors
    if request.POST.get("declaration") != "yes":
        problems = {"declaration": [_("Confirm the declaration to submit.")]}
    else:
        try:
            return HttpResponseRedirect(submit(token))
        except DomainError as error:
            if error.code != "validation_error":
                raise
            problems = error.fields or {"": [str(error.message)]}
    return _check_page(request, load(), problems, status=400)


def delete_page(request: HttpRequest, filling: Filling) -> HttpResponse:
    """Throw the draft away, back to my applications."""
    filling.delete(user=user_of(request))
    messages.success(request, _("The draft was deleted."))
    return HttpResponseRedirect(reverse("approvals:mine"))
