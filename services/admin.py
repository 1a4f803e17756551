"""The catalogue in the admin: regions, departments, themes, bundles, synonyms and service items.

A service item version that is not a draft is read-only here: a published
version never changes. Drafts are saved through ``services.actions``, and the
buttons on a version's page move it through its life (new draft, submit for
approval, approve, return). Each entry has a page of its versions and a
field-by-field comparison of any two of them.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.errors import DomainError
from services import actions
from services.codes import validate_implementation_code
from services.models import Bundle, Department, Region, ServedParty, ServiceItem, Synonym, Theme
from services.transfer.formats import CONTENT_FIELDS
from services.validation import bundle_order_problems, served_party_flags


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "uscc", "kind", "region")
    list_filter = ("kind", "region__level")
    search_fields = ("uscc", "name", "short_name")
    autocomplete_fields = ("region",)
    list_select_related = ("region",)


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "audience", "position")
    list_filter = ("audience",)
    search_fields = ("slug", "name")


class BundleForm(forms.ModelForm):
    class Meta:
        model = Bundle
        fields = (
            "slug",
            "name",
            "audience",
            "theme",
            "description",
            "item_codes",
            "depends_on",
            "founding_item_code",
            "is_active",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not {"item_codes", "depends_on", "founding_item_code"} & set(self.errors):
            problems = bundle_order_problems(
                cleaned.get("item_codes") or [], cleaned.get("depends_on") or {}, cleaned.get("founding_item_code", "")
            )
            for name, messages in problems.items():
                for message in messages:
                    self.add_error(name, message)
        return cleaned


@admin.register(Bundle)
class BundleAdmin(admin.ModelAdmin):
    form = BundleForm
    list_display = ("name", "slug", "audience", "theme", "is_active")
    list_filter = ("audience", "is_active")
    search_fields = ("slug", "name")
    autocomplete_fields = ("theme",)
    list_select_related = ("theme",)


@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin):
    list_display = ("term", "expansions")
    search_fields = ("term", "expansions")


# --- Service items ----------------------------------------------------------

IDENTITY_FIELDS = ("implementation_code", "basic_code", "department", "exercise_level")
RECORD_FIELDS = ("version", "status", "edited_by", "approved_by", "published_at", "for_persons", "for_enterprises")
# The fields two versions are compared by, in the order of the guide; dates and notes are in the version list.
DIFF_FIELDS = (
    *(field.name for field in ServiceItem._meta.concrete_fields if field.name in {*IDENTITY_FIELDS, *CONTENT_FIELDS}),
    "themes",
)
_OPEN_STATUSES = (ServiceItem.Status.DRAFT, ServiceItem.Status.IN_REVIEW, ServiceItem.Status.SCHEDULED)


@dataclass(frozen=True)
class WorkflowStep:
    label: str | Promise
    statuses: tuple[str, ...]


WORKFLOW_STEPS = {
    "new-draft": WorkflowStep(
        gettext_lazy("Start a new draft version"), (ServiceItem.Status.PUBLISHED, ServiceItem.Status.RETIRED)
    ),
    "submit": WorkflowStep(gettext_lazy("Submit for approval"), (ServiceItem.Status.DRAFT,)),
    "approve": WorkflowStep(gettext_lazy("Approve and publish"), (ServiceItem.Status.IN_REVIEW,)),
    "return": WorkflowStep(gettext_lazy("Return to the editor"), (ServiceItem.Status.IN_REVIEW,)),
}


@dataclass(frozen=True)
class DiffLine:
    kind: str  # added, removed, context or gap
    text: str


@dataclass(frozen=True)
class FieldDifference:
    name: str
    label: str
    lines: list[DiffLine]


def _value_lines(item: ServiceItem, name: str) -> list[str]:
    """A field of a version as lines of text, so that two versions compare line by line."""
    if name == "themes":
        return [f"{theme.name} ({theme.slug})" for theme in sorted(item.themes.all(), key=lambda theme: theme.slug)]
    model_field = ServiceItem._meta.get_field(name)
    value = getattr(item, name)
    if value is None or value == "":
        return []
    if isinstance(model_field, models.JSONField):
        return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).splitlines()
    if isinstance(model_field, models.ForeignKey):
        return [f"{value} ({value.uscc})" if isinstance(value, Department) else str(value)]
    if getattr(model_field, "choices", None):
        display = getattr(item, f"get_{name}_display")()
        return [f"{display} ({value})"]
    return str(value).splitlines()


def _field_label(name: str) -> str:
    try:
        model_field = ServiceItem._meta.get_field(name)
    except FieldDoesNotExist:  # a problem may be about something that is not a field
        return name
    return capfirst(str(getattr(model_field, "verbose_name", name)))


def version_differences(old: ServiceItem, new: ServiceItem) -> list[FieldDifference]:
    """The fields in which two versions of an entry differ, each with the lines removed and added."""
    differences = []
    for name in DIFF_FIELDS:
        old_lines, new_lines = _value_lines(old, name), _value_lines(new, name)
        if old_lines == new_lines:
            continue
        lines: list[DiffLine] = []
        for line in list(difflib.unified_diff(old_lines, new_lines, lineterm="", n=2))[2:]:
            if line.startswith("@@"):
                if lines:
                    lines.append(DiffLine("gap", "⋯"))
            elif line.startswith("+"):
                lines.append(DiffLine("added", line[1:]))
            elif line.startswith("-"):
                lines.append(DiffLine("removed", line[1:]))
            else:
                lines.append(DiffLine("context", line[1:]))
        differences.append(FieldDifference(name=name, label=_field_label(name), lines=lines))
    return differences


class ServiceItemForm(forms.ModelForm):
    class Meta:
        model = ServiceItem
        fields = (*IDENTITY_FIELDS, *sorted(actions.EDITABLE_FIELDS), "themes")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is None:
            self._check_new_entry(cleaned)
        return cleaned

    def _check_new_entry(self, cleaned: dict[str, Any]) -> None:
        code = cleaned.get("implementation_code")
        department, level, basic_code = (
            cleaned.get("department"),
            cleaned.get("exercise_level"),
            cleaned.get("basic_code"),
        )
        if not code:
            return
        if ServiceItem.objects.filter(implementation_code=code).exists():
            self.add_error(
                "implementation_code",
                _("An entry with this implementation code exists; start a new draft version of it instead."),
            )
        elif department is not None and level is not None and basic_code:
            try:
                validate_implementation_code(code, department_uscc=department.uscc, level=level, basic_code=basic_code)
            except ValidationError as error:
                self.add_error("implementation_code", error)


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)  # the admin lets in only signed-in staff


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    form = ServiceItemForm
    change_form_template = "admin/services/serviceitem/change_form.html"
    list_display = (
        "name",
        "implementation_code",
        "version",
        "status",
        "department",
        "effective_from",
        "effective_to",
    )
    list_filter = ("status", "item_type", "section", "star_level")
    search_fields = ("name", "implementation_code", "basic_code")
    list_select_related = ("department",)
    autocomplete_fields = ("department",)
    filter_horizontal = ("themes",)
    fieldsets = (
        (None, {"fields": IDENTITY_FIELDS}),
        (
            gettext_lazy("Service guide"),
            {
                "fields": (
                    "name",
                    "aliases",
                    "summary",
                    "item_type",
                    "served_parties",
                    "handling_type",
                    ("legal_limit", "legal_limit_unit"),
                    ("promised_limit", "promised_limit_unit"),
                    "visits",
                    "star_level",
                    "online_depth",
                    "scope",
                    "section",
                    "themes",
                )
            },
        ),
        (
            gettext_lazy("Where and how to apply"),
            {"fields": ("conditions", "legal_basis", "consult_phone", "supervise_phone", "location", "hours")},
        ),
        (
            gettext_lazy("Materials, fees, form and workflow"),
            {"fields": ("materials", "fees", "faqs", "process", "form_schema", "form_ui", "workflow")},
        ),
        (
            gettext_lazy("Version"),
            {"fields": ("effective_from", "effective_to", "change_note", *RECORD_FIELDS)},
        ),
    )

    # --- A version that is not a draft is read-only ---

    def has_change_permission(self, request: HttpRequest, obj: ServiceItem | None = None) -> bool:
        if obj is not None and not obj.is_editable:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: ServiceItem | None = None) -> bool:
        if obj is not None and not obj.is_editable:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        found = super().get_actions(request)
        found.pop("delete_selected", None)  # it would not ask each version whether it may go
        return found

    def formfield_for_dbfield(self, db_field: models.Field[Any, Any], request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "served_parties":  # codes from a fixed set: boxes to tick, not JSON to type
            return forms.TypedMultipleChoiceField(
                label=capfirst(str(db_field.verbose_name)),
                choices=ServedParty.choices,
                widget=forms.CheckboxSelectMultiple,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: ServiceItem | None = None) -> tuple[str, ...]:
        if obj is None:
            return RECORD_FIELDS
        return (*IDENTITY_FIELDS, *RECORD_FIELDS)  # the identity of an entry is the same in all its versions

    # --- Saving goes through the actions ---

    def save_model(self, request: HttpRequest, obj: ServiceItem, form: forms.ModelForm, change: bool) -> None:
        if not change:
            # A brand-new entry starts as draft version 1; it is published like any version.
            obj.version = 1
            obj.status = ServiceItem.Status.DRAFT
            obj.edited_by = _actor(request)
            obj.for_persons, obj.for_enterprises = served_party_flags(list(obj.served_parties))
            obj.save()
            return
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in actions.EDITABLE_FIELDS}
        theme_ids = None
        if "themes" in form.changed_data:
            theme_ids = [theme.pk for theme in form.cleaned_data["themes"]]
        try:
            actions.item_draft_update(item_id=obj.pk, actor=_actor(request), changes=changes, theme_ids=theme_ids)
        except DomainError as error:
            self._refuse(request, error)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if not change:  # a draft's themes were saved by item_draft_update
            super().save_related(request, form, formsets, change)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if not _was_refused(request):
            return super().log_change(request, obj, message)
        return None

    def response_change(self, request: HttpRequest, obj: ServiceItem) -> HttpResponse:
        if _was_refused(request):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def _refuse(self, request: HttpRequest, error: DomainError) -> None:
        request._catalogue_refused = True  # type: ignore[attr-defined]  # read by response_change and log_change
        messages.error(request, str(error.message))
        for name, problems in error.fields.items():
            label = _field_label(name)
            for problem in problems:
                messages.error(request, f"{label}: {problem}")

    # --- The version workflow, the version list and the comparison ---

    def get_urls(self) -> list[URLPattern]:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        own = [
            path(
                "<path:object_id>/versions/", self.admin_site.admin_view(self.versions_view), name=f"{prefix}_versions"
            ),
            path("<path:object_id>/versions/diff/", self.admin_site.admin_view(self.diff_view), name=f"{prefix}_diff"),
            path(
                "<path:object_id>/workflow/<slug:step>/",
                self.admin_site.admin_view(self.workflow_view),
                name=f"{prefix}_workflow",
            ),
        ]
        # Before the admin's own: its "<path:object_id>/" would take these addresses.
        return own + super().get_urls()

    def _url(self, name: str, item: ServiceItem, **kwargs: str) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}",
            kwargs={"object_id": str(item.pk), **kwargs},
            current_app=self.admin_site.name,
        )

    def _item(self, request: HttpRequest, object_id: str) -> ServiceItem:
        item = self.get_object(request, unquote(object_id))
        if item is None:
            raise Http404(_("This service item version does not exist."))
        if not self.has_view_permission(request, item):
            raise PermissionDenied
        return item

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        item = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if item is not None:
            context["workflow"] = self._workflow(request, item)
            context["versions_url"] = self._url("versions", item)
        return super().change_view(request, object_id, form_url, context)

    def _workflow(self, request: HttpRequest, item: ServiceItem) -> dict[str, Any]:
        """What the change page offers for this version: the steps it can take, and other versions to know of."""
        open_version = (
            ServiceItem.objects.filter(implementation_code=item.implementation_code, status__in=_OPEN_STATUSES)
            .exclude(pk=item.pk)
            .first()
        )
        steps = []
        if super().has_change_permission(request):
            steps = [
                {"url": self._url("workflow", item, step=name), "label": step.label, "is_default": name == "approve"}
                for name, step in WORKFLOW_STEPS.items()
                if item.status in step.statuses and not (name == "new-draft" and open_version)
            ]
        return {
            "steps": steps,
            "open_version": open_version,
            "open_version_url": self._url("change", open_version) if open_version else "",
            "is_own_version": item.status == ServiceItem.Status.IN_REVIEW and item.edited_by_id == request.user.pk,
        }

    def workflow_view(self, request: HttpRequest, object_id: str, step: str) -> HttpResponse:
        """One step of a version's life, by a POST from the buttons on its page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if step not in WORKFLOW_STEPS:
            raise Http404
        item = self._item(request, object_id)
        if not super().has_change_permission(request):
            raise PermissionDenied
        try:
            result, message = self._take_step(step, item, _actor(request))
        except DomainError as error:
            self._refuse(request, error)
            return redirect(self._url("change", item))
        messages.success(request, message)
        return redirect(self._url("change", result))

    def _take_step(self, step: str, item: ServiceItem, actor: User) -> tuple[ServiceItem, str]:
        if step == "new-draft":
            draft = actions.item_draft_start(implementation_code=item.implementation_code, actor=actor)
            return draft, _("Version %(version)s was started as a draft; edit it below.") % {"version": draft.version}
        if step == "submit":
            item = actions.item_submit_for_review(item_id=item.pk, actor=actor)
            return item, _("Version %(version)s was sent for approval; a second person must approve it.") % {
                "version": item.version
            }
        if step == "approve":
            item = actions.item_approve(item_id=item.pk, actor=actor)
            if item.is_published:
                return item, _("Version %(version)s is published.") % {"version": item.version}
            return item, _("Version %(version)s is approved and will be published on %(date)s.") % {
                "version": item.version,
                "date": item.effective_from.isoformat() if item.effective_from else "—",
            }
        item = actions.item_return_to_draft(item_id=item.pk, actor=actor)
        return item, _("Version %(version)s was returned to its editor as a draft.") % {"version": item.version}

    def versions_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Every version of the entry this version belongs to."""
        item = self._item(request, object_id)
        versions = (
            ServiceItem.objects.filter(implementation_code=item.implementation_code)
            .select_related("edited_by", "approved_by")
            .order_by("-version")
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "item": item,
            "title": _("Versions of %(name)s") % {"name": item.name},
            "versions": [{"item": version, "change_url": self._url("change", version)} for version in versions],
            "diff_url": self._url("diff", item),
        }
        return TemplateResponse(request, "admin/services/serviceitem/version_history.html", context)

    def diff_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The fields in which two versions differ: ?old=&new= (version numbers), by default this and the one before."""
        item = self._item(request, object_id)
        versions = {
            version.version: version
            for version in ServiceItem.objects.filter(implementation_code=item.implementation_code)
            .select_related("department")
            .prefetch_related("themes")
        }
        try:
            new_number = int(request.GET.get("new", item.version))
            old_number = int(
                request.GET.get("old", max((number for number in versions if number < new_number), default=0))
            )
            old, new = versions[old_number], versions[new_number]
        except (KeyError, ValueError):
            raise Http404(_("Choose two versions of this entry to compare.")) from None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "item": item,
            "old": old,
            "new": new,
            "title": _("Changes from version %(old)s to version %(new)s") % {"old": old.version, "new": new.version},
            "differences": version_differences(old, new),
            "versions_url": self._url("versions", item),
        }
        return TemplateResponse(request, "admin/services/serviceitem/history_diff.html", context)


def _was_refused(request: HttpRequest) -> bool:
    return bool(getattr(request, "_catalogue_refused", False))
