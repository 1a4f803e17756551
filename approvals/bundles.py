"""一件事一次办: one form and one submission for several items, one child application per item, one timeline.

A ``BundleApplication`` holds the answers the applicant gave once; each item of the
bundle has a child ``Application`` that is an ordinary application in every other
respect: its own number and query password, its own routing outbox row (so the
workers route the children in parallel), its own tasks and events. Every write to a
child goes through ``approvals.actions``, so each child keeps the rules a single
application follows (its own schema, materials, submission checks).

The bundle's form is the union of the children's forms: steps merged by title in
the order first seen, a field that several items ask for (the same code) shown once.
An answer is checked against the schema of every child that has the field.

Locks are taken bundle first, then its children in id order. Routing locks a child
and then the bundle (``child_finished``), but only once the bundle is submitted, when
nothing here locks its children any more.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from accounts.models import Enterprise, User
from approvals import actions, forms_engine, uploads
from approvals.materials import UPLOAD, certificate_type_of, materials_of
from approvals.models import Application, ApplicationEvent, Attachment, BundleApplication
from core.errors import Conflict, DomainError, NotFound
from interaction.actions import notify
from services import selectors as service_selectors
from services.models import Bundle, Department, ServiceItem

Errors = dict[str, list[str]]
EMPTY: tuple[Any, ...] = (None, "", [])


# --- the merged form ------------------------------------------------------------


def _properties(item: ServiceItem) -> set[str]:
    return set((item.form_schema.get("properties") or {}).keys())


def _file_fields(item: ServiceItem) -> set[str]:
    return {code for code, ui in (item.form_ui.get("fields") or {}).items() if (ui or {}).get("widget") == "file"}


def form_steps(items: Iterable[ServiceItem]) -> list[forms_engine.Step]:
    """The one form of a bundle: each item's steps merged by title (first seen first), each field code once.

    A field that one item makes optional and another requires is shown as required.
    """
    titles: list[str] = []
    fields_by_title: dict[str, dict[str, forms_engine.FieldSpec]] = {}
    placed: dict[str, str] = {}  # field code → the title of the step that shows it
    for item in items:
        for step in forms_engine.form_steps(item.form_schema, item.form_ui):
            if step.title not in fields_by_title:
                titles.append(step.title)
                fields_by_title[step.title] = {}
            for field in step.fields:
                if field.code in placed:
                    shown = fields_by_title[placed[field.code]]
                    if field.is_required and not shown[field.code].is_required:
                        shown[field.code] = dataclasses.replace(shown[field.code], is_required=True)
                    continue
                placed[field.code] = step.title
                fields_by_title[step.title][field.code] = field
    steps: list[forms_engine.Step] = []
    for title in titles:
        if fields_by_title[title]:
            steps.append(
                forms_engine.Step(index=len(steps), title=title, fields=tuple(fields_by_title[title].values()))
            )
    return steps


def merged_data(children: Iterable[Application]) -> dict[str, Any]:
    """The answers of the children as the one form shows them (the first child's value of a shared field)."""
    data: dict[str, Any] = {}
    for child in children:
        for code, value in child.data.items():
            data.setdefault(code, value)
    return data


def merged_prefilled(children: Iterable[Application]) -> dict[str, str]:
    prefilled: dict[str, str] = {}
    for child in children:
        for code, source in child.prefilled.items():
            prefilled.setdefault(code, source)
    return prefilled


def _add_errors(errors: Errors, found: Errors) -> None:
    for key, messages in found.items():
        known = errors.setdefault(key, [])
        known.extend(message for message in messages if message not in known)


def validate_answers(children: Iterable[Application], changes: dict[str, Any], *, only: Iterable[str]) -> Errors:
    """What is wrong with these answers, checked against the schema of each child that has the field.

    ``changes`` maps field codes to new values (an empty value clears the field);
    each child is checked with its own answers and these changes, for the codes in
    ``only`` that its form has. Errors keep the field codes: they are shared.
    """
    wanted = set(only)
    errors: Errors = {}
    for child in children:
        item = child.service
        properties = _properties(item)
        codes = wanted & properties
        if not codes:
            continue
        answer = dict(child.data)
        for code, value in changes.items():
            if code not in properties:
                continue
            if value in EMPTY:
                answer.pop(code, None)
            else:
                answer[code] = value
        _add_errors(errors, forms_engine.validate(item.form_schema, item.form_ui, answer, only=codes))
    return errors


def submission_problems(children: Iterable[Application]) -> Errors:
    """Everything that stops any child draft from being submitted (answers by field code, ``material.<code>``)."""
    problems: Errors = {}
    for child in children:
        if child.status == Application.Status.DRAFT:
            _add_errors(problems, actions.submission_problems(child))
    return problems


# --- materials ----------------------------------------------------------------------


@dataclass(frozen=True)
class BundleMaterial:
    """One material of the bundle, as the union of its children's materials shows it."""

    code: str
    name: str
    is_required: bool
    source: str
    notes: str
    satisfied_by: str  # "upload", "certificate", "registry", or "" while a child that needs it lacks it
    file_name: str
    attachment_id: str
    item_names: tuple[str, ...]  # the items that ask for it


def materials_of_items(items: Iterable[ServiceItem]) -> list[dict[str, Any]]:
    """The materials of several items, each code once (the first item's entry), required if any item requires it."""
    entries: dict[str, dict[str, Any]] = {}
    for item in items:
        for entry in materials_of(item):
            known = entries.get(entry["code"])
            if known is None:
                entries[entry["code"]] = dict(entry)
            elif entry.get("required"):
                known["required"] = True
    return list(entries.values())


def material_states(children: list[Application]) -> list[BundleMaterial]:
    """Every material of the bundle and what satisfies it in each child that needs it (one query for the files)."""
    current: dict[tuple[int, str], Attachment] = {
        (attachment.application_id, attachment.material_code): attachment
        for attachment in Attachment.objects.filter(
            application__in=[child.pk for child in children], replaced_at__isnull=True
        ).exclude(material_code="")
    }
    states = []
    for entry in materials_of_items(child.service for child in children):
        code = entry["code"]
        needing = [child for child in children if code in {each["code"] for each in materials_of(child.service)}]
        ways: list[str] = []
        attachment: Attachment | None = None
        for child in needing:
            found = current.get((child.pk, code))
            if found is not None:
                attachment = attachment or found
                ways.append("upload")
            else:
                ways.append(str((child.material_picks or {}).get(code, {}).get("by", "")))
        satisfied_by = "" if not ways or "" in ways else ("upload" if "upload" in ways else ways[0])
        states.append(
            BundleMaterial(
                code=code,
                name=str(entry.get("name", code)),
                is_required=bool(entry.get("required")),
                source=str(entry.get("source", UPLOAD)),
                notes=str(entry.get("notes", "")),
                satisfied_by=satisfied_by,
                file_name=attachment.original_name if attachment is not None else "",
                attachment_id=str(attachment.public_id) if attachment is not None else "",
                item_names=tuple(child.service.name for child in needing),
            )
        )
    return states


# --- reads ------------------------------------------------------------------------------


def _may_see(bundle: BundleApplication, user: AbstractBaseUser | AnonymousUser) -> bool:
    """The applicant's own bundle, or an enterprise's bundle the user may act in for every item."""
    if not user.is_authenticated:
        return False
    if bundle.acting_for_id is None:
        return bundle.applicant_id == user.pk
    scopes = account_selectors.enterprise_scopes(user)
    if bundle.acting_for_id not in scopes:
        return False
    codes = scopes[bundle.acting_for_id]
    return codes is None or set(bundle.bundle.item_codes) <= codes


def bundle_for_owner(user: AbstractBaseUser | AnonymousUser, public_id: str) -> BundleApplication:
    """One bundle application of the user's; NotFound (404) for anyone else's."""
    try:
        bundle = BundleApplication.objects.select_related("bundle", "acting_for").filter(public_id=public_id).first()
    except (ValueError, ValidationError):
        bundle = None
    if bundle is None or not _may_see(bundle, user):
        raise NotFound(_("No such application."))
    return bundle


def bundles_of_owner(user: AbstractBaseUser | AnonymousUser) -> list[BundleApplication]:
    """The user's 一件事 applications, drafts and submitted, newest first."""
    if not user.is_authenticated:
        return []
    return list(
        BundleApplication.objects.filter(applicant_id=user.pk)
        .select_related("bundle")
        .order_by("-created_at", "-pk")[:50]
    )


def bundle_drafts_for_owner(
    user: AbstractBaseUser | AnonymousUser, *, bundle: Bundle, acting_for: Enterprise | None
) -> list[BundleApplication]:
    """The user's drafts of this bundle (for themselves, or for the enterprise they act for), newest first."""
    if not user.is_authenticated:
        return []
    return list(
        BundleApplication.objects.filter(
            applicant_id=user.pk,
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
    return [
        BundleEvent(
            at=event.at,
            text=_("%(item)s: %(what)s") % {"item": event.application.service.name, "what": event.get_action_display()},
            item_name=event.application.service.name,
            department=event.department,
            note=event.note,
        )
        for event in events
    ]


# --- writes ---------------------------------------------------------------------------------


def _draft_expiry() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=settings.DRAFT_TTL_DAYS)


def _locked(bundle_id: int, user: User) -> BundleApplication:
    bundle = (
        BundleApplication.objects.select_for_update(of=("self",))
        .select_related("bundle", "acting_for")
        .filter(pk=bundle_id)
        .first()
    )
    if bundle is None or not _may_see(bundle, user):
        raise NotFound(_("No such application."))
    return bundle


def _locked_children(bundle: BundleApplication) -> list[Application]:
    return list(
        Application.objects.select_for_update(of=("self",))
        .select_related("service", "department")
        .filter(bundle_application=bundle)
        .order_by("pk")
    )


def _require_draft(bundle: BundleApplication) -> None:
    if not bundle.is_draft:
        raise Conflict(
            _("This cannot be done now: the application is %(status)s.") % {"status": bundle.get_status_display()},
            code="wrong_status",
        )


def _naming(item: ServiceItem, error: DomainError) -> DomainError:
    """The same error, its message saying which item of the bundle it is about."""
    return type(error)(
        _("%(item)s: %(problem)s") % {"item": item.name, "problem": error.message},
        code=error.code,
        fields=error.fields,
    )


def bundle_items(bundle: Bundle, *, user: User, acting_for: Enterprise | None) -> list[ServiceItem]:
    """The bundle's items, each published, open to online application and to this user; else the first problem."""
    items = service_selectors.items_of_bundle(bundle)
    published = {item.implementation_code for item in items}
    for code in bundle.item_codes:
        if code not in published:
            name = (
                ServiceItem.objects.filter(implementation_code=code).order_by("-version").values_list("name", flat=True)
            ).first()
            raise DomainError(
                _("%(item)s is not offered at present, so this bundle cannot be applied for.") % {"item": name or code},
                code="service_not_found",
            )
    if not items:
        raise DomainError(_("This bundle has no services."), code="service_not_found")
    for item in items:
        if item.item_type in actions.NOT_APPLICABLE_TYPES or not item.form_schema:
            raise _naming(
                item, DomainError(_("This service cannot be applied for online."), code="service_not_applicable")
            )
        try:
            actions.check_may_apply(user=user, item=item, acting_for=acting_for)
        except DomainError as error:
            raise _naming(item, error) from None
    return items


def active_bundle(slug: str) -> Bundle:
    """The active bundle with this slug; NotFound otherwise."""
    bundle = next((each for each in service_selectors.active_bundles() if each.slug == slug), None)
    if bundle is None:
        raise NotFound(_("No such bundle."), code="bundle_not_found")
    return bundle


@transaction.atomic
def bundle_draft_start(*, user: User, slug: str, acting_for: Enterprise | None = None) -> BundleApplication:
    """A new bundle draft and one child draft per item, each prefilled from the registries (each read logged)."""
    bundle = active_bundle(slug)
    items = bundle_items(bundle, user=user, acting_for=acting_for)
    application = BundleApplication.objects.create(
        bundle=bundle, applicant=user, acting_for=acting_for, draft_expires_at=_draft_expiry()
    )
    children = []
    for item in items:
        child = actions.application_draft_start(user=user, service_code=item.implementation_code, acting_for=acting_for)
        child.bundle_application = application
        # The bundle's draft expires as a whole (bundle_drafts_sweep); a child alone never does.
        child.draft_expires_at = None
        child.save(update_fields=["bundle_application", "draft_expires_at", "updated_at"])
        children.append(child)
    application.data = merged_data(children)
    application.prefilled = merged_prefilled(children)
    application.save(update_fields=["data", "prefilled", "updated_at"])
    return application


@transaction.atomic
def bundle_draft_update(*, bundle_id: int, user: User, data: dict[str, Any]) -> BundleApplication:
    """Save answers once into every child whose form has the field; any wrong answer changes nothing anywhere."""
    bundle = _locked(bundle_id, user)
    _require_draft(bundle)
    children = _locked_children(bundle)
    known = set().union(*(_properties(child.service) for child in children))
    unknown = sorted(set(data) - known)
    if unknown:
        raise DomainError(
            _("The form has no such fields."),
            code="validation_error",
            fields={code: [_("This form has no such field.")] for code in unknown},
        )
    present = [code for code, value in data.items() if value not in EMPTY]
    problems = validate_answers(children, data, only=present)
    if problems:
        raise DomainError(_("Some answers need correcting."), code="validation_error", fields=problems)
    updated = []
    for child in children:
        part = {code: value for code, value in data.items() if code in _properties(child.service)}
        if part:
            child = actions.application_draft_update(application_id=child.pk, user=user, data=part)
        updated.append(child)
    bundle.data = merged_data(updated)
    bundle.prefilled = {code: source for code, source in merged_prefilled(updated).items() if code in bundle.data}
    bundle.draft_expires_at = _draft_expiry()
    bundle.save(update_fields=["data", "prefilled", "draft_expires_at", "updated_at"])
    return bundle


def _needs(child: Application, *, material_code: str, field_code: str) -> bool:
    if material_code:
        return material_code in {entry["code"] for entry in materials_of(child.service)}
    return field_code in _file_fields(child.service)


def bundle_attachment_add(
    *, bundle_id: int, user: User, upload: UploadedFile, material_code: str = "", field_code: str = ""
) -> list[Attachment]:
    """Keep one uploaded file for every child that needs it (a material, or a file field of the form).

    Each child gets its own checked, encrypted copy through ``actions.attachment_add``:
    the file is checked, encrypted and written once per child that needs it. That
    costs a copy per item at rest, and buys what a single application already has:
    each department sees only its own application's files, and a child's file is
    replaced, removed or deleted with its draft without touching the others'.
    """
    created: list[Attachment] = []
    try:
        with transaction.atomic():
            bundle = _locked(bundle_id, user)
            _require_draft(bundle)
            children = [
                child
                for child in _locked_children(bundle)
                if _needs(child, material_code=material_code, field_code=field_code)
            ]
            if not children or bool(material_code) == bool(field_code):
                raise DomainError(
                    _("This service has no such material."),
                    code="validation_error",
                    fields={"material": [_("This service has no such material.")]},
                )
            for child in children:
                created.append(
                    actions.attachment_add(
                        application_id=child.pk,
                        user=user,
                        upload=upload,
                        material_code=material_code,
                        field_code=field_code,
                    )
                )
            if field_code:
                bundle.data = {**bundle.data, field_code: str(created[0].public_id)}
                bundle.save(update_fields=["data", "updated_at"])
    except BaseException:
        # The rows are gone with the transaction; the copies already written must go too.
        for attachment in created:
            uploads.delete(attachment.storage_key)
        raise
    return created


@transaction.atomic
def bundle_attachment_remove(*, bundle_id: int, user: User, material_code: str) -> int:
    """Take a material's file off every child; returns how many files were removed."""
    bundle = _locked(bundle_id, user)
    _require_draft(bundle)
    children = _locked_children(bundle)
    current = list(
        Attachment.objects.filter(
            application__in=[child.pk for child in children], material_code=material_code, replaced_at__isnull=True
        ).values_list("application_id", "public_id")
    )
    if not current:
        raise NotFound(_("No such file."))
    for application_id, public_id in current:
        actions.attachment_remove(application_id=application_id, user=user, attachment_public_id=str(public_id))
    return len(current)


@transaction.atomic
def bundle_material_pick_certificate(
    *, bundle_id: int, user: User, material_code: str, certificate_id: str
) -> BundleApplication:
    """Satisfy a material with a certificate from the wallet, in every child that asks for it."""
    bundle = _locked(bundle_id, user)
    _require_draft(bundle)
    takers = [
        child
        for child in _locked_children(bundle)
        if any(entry["code"] == material_code and certificate_type_of(entry) for entry in materials_of(child.service))
    ]
    if not takers:
        raise DomainError(
            _("This material cannot be taken from the certificate wallet."),
            code="validation_error",
            fields={"material": [_("This material cannot be taken from the certificate wallet.")]},
        )
    for child in takers:
        actions.material_pick_certificate(
            application_id=child.pk, user=user, material_code=material_code, certificate_id=certificate_id
        )
    return bundle


@transaction.atomic
def bundle_draft_delete(*, bundle_id: int, user: User) -> None:
    """Throw a bundle draft away, with its children and their files."""
    bundle = _locked(bundle_id, user)
    _require_draft(bundle)
    _delete_draft(bundle)


def _delete_draft(bundle: BundleApplication) -> None:
    keys = list(Attachment.objects.filter(application__bundle_application=bundle).values_list("storage_key", flat=True))
    bundle.delete()  # the children go with it (CASCADE), their attachments with them
    transaction.on_commit(lambda: uploads.delete_all(keys))


def bundle_drafts_sweep(*, now: datetime.datetime | None = None) -> int:
    """Delete bundle drafts past their expiry, with their children and files; returns how many.

    The children of a bundle draft have no expiry of their own, so the sweep of
    single drafts never takes one child out of a bundle.
    """
    now = now or timezone.now()
    expired = BundleApplication.objects.filter(
        status=BundleApplication.Status.DRAFT, draft_expires_at__lte=now
    ).values_list("pk", flat=True)
    deleted = 0
    for bundle_id in list(expired[:1000]):
        with transaction.atomic():
            bundle = (
                BundleApplication.objects.select_for_update()
                .filter(pk=bundle_id, status=BundleApplication.Status.DRAFT, draft_expires_at__lte=now)
                .first()
            )
            if bundle is None:
                continue
            _delete_draft(bundle)
            deleted += 1
    return deleted


@transaction.atomic
def bundle_submit(*, bundle_id: int, user: User, idempotency_key: str = "") -> BundleApplication:
    """Submit every child at once or none: each gets its own number, query password and routing outbox row.

    A second submit of a bundle already submitted (a double click, a second tab)
    changes nothing and returns the same bundle, with the same children.
    """
    bundle = _locked(bundle_id, user)
    if not bundle.is_draft:
        return bundle
    if not bundle.bundle.is_active:
        raise Conflict(_("This bundle is no longer offered."), code="bundle_not_active")
    children = _locked_children(bundle)
    if not children:
        raise Conflict(_("This bundle has no services."), code="service_not_found")
    for child in children:
        if child.status != Application.Status.DRAFT:
            continue  # submitted already (an earlier, interrupted submit): application_submit answers the same
        if child.service.status != ServiceItem.Status.PUBLISHED:
            raise Conflict(
                _("%(item)s has changed since you started. Open your draft again to continue.")
                % {"item": child.service.name},
                code="service_version_changed",
            )
        try:
            actions.check_may_apply(user=user, item=child.service, acting_for=bundle.acting_for)
        except DomainError as error:
            raise _naming(child.service, error) from None
    problems = submission_problems(children)
    if problems:
        raise DomainError(
            _("Some answers or materials are missing or need correcting."), code="validation_error", fields=problems
        )
    for child in children:
        actions.application_submit(
            application_id=child.pk,
            user=user,
            idempotency_key=f"{idempotency_key}:{child.pk}" if idempotency_key else "",
            request_hash=actions.request_fingerprint({"bundle": str(bundle.public_id), "child": str(child.public_id)}),
        )
    bundle.status = BundleApplication.Status.SUBMITTED
    bundle.submitted_at = timezone.now()
    bundle.draft_expires_at = None
    bundle.save(update_fields=["status", "submitted_at", "draft_expires_at", "updated_at"])
    return bundle


def bundle_url(bundle: BundleApplication) -> str:
    return reverse("bundles:bundle", kwargs={"public_id": bundle.public_id})


def child_finished(application: Application) -> None:
    """Routing ended a child (in routing's transaction): when every sibling has ended too, the bundle is complete.

    The bundle row is locked, so two children ending at once in two workers are
    counted one after the other and exactly one of them completes the bundle.
    """
    if application.bundle_application_id is None:
        return
    bundle = (
        BundleApplication.objects.select_for_update(of=("self",))
        .select_related("bundle")
        .filter(pk=application.bundle_application_id, status=BundleApplication.Status.SUBMITTED)
        .first()
    )
    if bundle is None:
        return
    if Application.objects.filter(bundle_application=bundle).exclude(status__in=Application.FINAL).exists():
        return
    bundle.status = BundleApplication.Status.COMPLETED
    bundle.completed_at = timezone.now()
    bundle.save(update_fields=["status", "completed_at", "updated_at"])
    notify(bundle.applicant_id, "bundle_completed", {"bundle_name": bundle.bundle.name, "url": bundle_url(bundle)})
