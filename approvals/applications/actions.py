"""Every write to an application before it is submitted: start a draft (or a counter application), fill it,
attach materials, follow a new version of its service, sweep old drafts; and the records of staff views.

Each action checks the application's current state under a row lock, writes,
and records an event in the same transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from accounts.models import Enterprise, User
from approvals import forms_engine, uploads
from approvals.access import is_counter_draft
from approvals.applications import merged_form
from approvals.applications.rules import (
    APPLICANT_SNAPSHOT_FIELDS,
    apply_problem,
    check_may_apply,
    draft_expiry,
    is_for_new_enterprise,
    is_online,
    locked,
    published_item,
    require_owner,
    require_status,
)
from approvals.journal import notify_applicant, record_event
from approvals.materials import certificate_type_of, materials_of, registry_of, wallet
from approvals.models import Application, ApplicationEvent, ApplicationView, Attachment, AttachmentView, Channel
from approvals.prefill import prefill
from core import crypto
from core.errors import DomainError, NotFound, PermissionDenied
from datahub import registries
from datahub.identity import mask_id, normalize_identity_number, validate_identity_number
from datahub.models import ID_NUMBER_HASH_PURPOSE
from datahub.registries import PersonView
from services.models import ServiceItem

Event = ApplicationEvent.Action


@transaction.atomic
def application_draft_start(
    *,
    user: User,
    service_code: str,
    acting_for: Enterprise | None = None,
    channel: str = Channel.PC,
    data: dict[str, Any] | None = None,
    minor_id_number: str = "",
    for_new_enterprise: bool = False,
) -> Application:
    """A new draft of this service for the user (or the enterprise they act for), prefilled from the registries.

    With ``minor_id_number``, a parent applies for their minor child (监护人代办): the child must be a
    minor of the parent's household in the population registry; the form is filled with the child's
    details, the application is the child's, and everything done on it is recorded as the parent's.
    """
    item = published_item(service_code)
    check_may_apply(user=user, item=item, acting_for=acting_for, for_new_enterprise=for_new_enterprise)
    child = _minor_of(user, minor_id_number, item=item, acting_for=acting_for) if minor_id_number else None
    application = Application.objects.create(
        applicant=user,
        acting_for=acting_for,
        service=item,
        implementation_code=item.implementation_code,
        department_id=item.department_id,
        channel=channel,
        draft_expires_at=draft_expiry(),
    )
    if child is None:
        record_event(application, Event.CREATED, actor=user, new_status=application.status)
        id_type = user.id_type
        id_number = crypto.decrypt(user.id_number_encrypted) if user.id_number_encrypted else ""
    else:
        application.is_for_minor = True
        application.applicant_name = child.name
        application.applicant_id_type = child.id_type
        application.applicant_id_hash = crypto.keyed_hash(child.id_number, purpose=ID_NUMBER_HASH_PURPOSE)
        application.applicant_id_encrypted = crypto.encrypt(child.id_number)
        application.applicant_id_masked = child.id_number_masked
        application.save(update_fields=["is_for_minor", *APPLICANT_SNAPSHOT_FIELDS, "updated_at"])
        record_event(
            application,
            Event.CREATED,
            actor=user,
            new_status=application.status,
            details={"guardian": user.pk, "for_minor": child.id_number_masked},
        )
        id_type, id_number = child.id_type, child.id_number
    _apply_prefill(application, actor=user, id_type=id_type, id_number=id_number)
    if data:
        _merge_draft_data(application, data)
    return application


def _minor_of(user: User, id_number: str, *, item: ServiceItem, acting_for: Enterprise | None) -> PersonView:
    """The minor of the user's household with this number (the registry read is logged); refused otherwise."""
    if acting_for is not None:
        raise DomainError(_("Apply for a child as yourself, not on behalf of an organisation."), code="wrong_audience")
    if not item.for_persons:
        raise DomainError(_("This service is for organisations, not for individuals."), code="wrong_audience")
    wanted = normalize_identity_number(id_number)
    child = next((each for each in account_selectors.household_minors(user=user) if each.id_number == wanted), None)
    if child is None:
        raise PermissionDenied(
            _("The population registry does not list this person as a minor of your household."),
            code="not_guardian",
        )
    return child


def _apply_prefill(
    application: Application, *, actor: User, id_type: str, id_number: str, department_id: int | None = None
) -> None:
    item = application.service
    filled = prefill(
        item=item,
        actor=actor,
        id_type=id_type,
        id_number=id_number,
        acting_for=application.acting_for,
        department_id=department_id,
    )
    from_registry = {
        entry["code"]: {"by": "registry"}
        for entry in materials_of(item)
        if registry_of(entry) and registry_of(entry) in filled.registries_found
    }
    if from_registry:
        application.material_picks = from_registry
        application.save(update_fields=["material_picks", "updated_at"])
    if filled.values:
        application.data = filled.values
        application.prefilled = filled.sources
        application.save(update_fields=["data", "prefilled", "updated_at"])
        record_event(
            application,
            Event.PREFILLED,
            actor=actor,
            department_id=department_id,
            details={"fields": sorted(filled.values), "registries": sorted(set(filled.sources.values()))},
        )


COUNTER_IDENTITY_PURPOSE = "窗口收件核验申请人身份"


@transaction.atomic
def application_counter_start(
    *,
    clerk: User,
    department_id: int,
    service_code: str,
    name: str,
    id_type: str,
    id_number: str,
) -> Application:
    """窗口收件: a clerk records an application for a person at the counter, whose document they hold in hand.

    The clerk has seen the person and the original document (the counter check of
    real-name level 3); the registry confirms name and number. The application
    belongs to the person's account when they have one; either way they get the
    number and query password on the receipt.
    """
    if department_id not in account_selectors.staff_departments(clerk):
        raise PermissionDenied(_("You do not work for this department."), code="not_staff")
    item = published_item(service_code)
    if item.department_id != department_id:
        raise DomainError(
            _("Record counter applications only for your department's own services."),
            code="validation_error",
            fields={"service": [_("This service belongs to another department.")]},
        )
    if not item.for_persons:
        raise DomainError(
            _("Counter applications are recorded for individuals."),
            code="validation_error",
            fields={"service": [_("This service is for organisations.")]},
        )
    number = normalize_identity_number(id_number)
    try:
        validate_identity_number(id_type, number)
    except ValidationError as error:
        raise DomainError(
            _("Check the identity document."), code="validation_error", fields={"id_number": list(error.messages)}
        ) from None
    matches = registries.person_verify(
        name=name,
        id_type=id_type,
        id_number=number,
        actor=clerk,
        purpose=COUNTER_IDENTITY_PURPOSE,
        department_id=department_id,
    )
    if not matches:
        raise DomainError(
            _("The population registry does not confirm this name and document. Check them with the person."),
            code="identity_mismatch",
            fields={"id_number": [_("The registry does not confirm this name and number.")]},
        )
    hashes = crypto.keyed_hashes(number, purpose=ID_NUMBER_HASH_PURPOSE)
    account = User.objects.filter(id_type=id_type, id_number_hash__in=hashes).first()
    application = Application.objects.create(
        applicant=account,
        recorded_by=clerk,
        service=item,
        implementation_code=item.implementation_code,
        department_id=item.department_id,
        channel=Channel.COUNTER,
        draft_expires_at=timezone.now() + datetime.timedelta(days=1),
        applicant_name=name.strip(),
        applicant_id_type=id_type,
        applicant_id_hash=crypto.keyed_hash(number, purpose=ID_NUMBER_HASH_PURPOSE),
        applicant_id_encrypted=crypto.encrypt(number),
        applicant_id_masked=mask_id(number),
    )
    record_event(
        application,
        Event.RECORDED_AT_COUNTER,
        actor=clerk,
        department_id=department_id,
        new_status=application.status,
        details={"has_account": account is not None},
    )
    _apply_prefill(application, actor=clerk, id_type=id_type, id_number=number, department_id=department_id)
    return application


def _merge_draft_data(application: Application, data: dict[str, Any]) -> None:
    item = application.service
    merged_form.require_known_fields([application], data)
    present = {code: value for code, value in data.items() if value not in (None, "", [])}
    problems = forms_engine.validate(item.form_schema, item.form_ui, {**application.data, **present}, only=present)
    if problems:
        raise DomainError(_("Some answers need correcting."), code="validation_error", fields=problems)
    merged = {**application.data, **present}
    for code, value in data.items():
        if value in (None, "", []):
            merged.pop(code, None)
    # Answers to questions the form does not ask now (a condition hides them) are not kept.
    application.data = forms_engine.visible_data(item.form_ui, merged)
    application.save(update_fields=["data", "updated_at"])


@transaction.atomic
def application_draft_update(*, application_id: int, user: User, data: dict[str, Any]) -> Application:
    """Save answers into a draft: each given answer is checked; an empty one clears the field."""
    application = locked(application_id)
    require_owner(application, user)
    require_status(application, Application.Status.DRAFT)
    _merge_draft_data(application, data)
    if application.draft_expires_at is not None:
        application.draft_expires_at = draft_expiry()
        application.draft_reminded_at = None
        application.save(update_fields=["draft_expires_at", "draft_reminded_at", "updated_at"])
    return application


@transaction.atomic
def application_draft_delete(*, application_id: int, user: User) -> None:
    """Throw a draft away, with its files."""
    application = locked(application_id)
    require_owner(application, user)
    require_status(application, Application.Status.DRAFT)
    _delete_draft(application)


def _delete_draft(application: Application) -> None:
    keys = list(application.attachments.values_list("storage_key", flat=True))
    application.delete()
    transaction.on_commit(lambda: uploads.delete_all(keys))


@transaction.atomic
def draft_follow_new_version(*, application_id: int) -> Application:
    """Move a draft whose service version was retired to the version now published, saying what changed.

    Answers the new form no longer asks for are dropped; answers it no longer
    accepts are dropped too and listed, so the applicant fills them again. When
    the service is no longer offered, or the applicant may no longer apply, the
    draft stays and says to start again.
    """
    application = locked(application_id)
    require_status(application, Application.Status.DRAFT)
    old = application.service
    if old.status == ServiceItem.Status.PUBLISHED:
        return application
    new = ServiceItem.objects.published().filter(implementation_code=application.implementation_code).first()
    may_apply = new is not None and is_online(new)
    if new is not None and may_apply and application.applicant is not None and not is_counter_draft(application):
        may_apply = (
            apply_problem(
                user=application.applicant,
                item=new,
                acting_for=application.acting_for,
                for_new_enterprise=is_for_new_enterprise(application),
            )
            is None
        )
    if new is None or not may_apply:
        application.version_notice = _(
            "This service is no longer offered in this form. Please start a new application."
        )
        application.save(update_fields=["version_notice", "updated_at"])
        return application
    properties = set((new.form_schema.get("properties") or {}).keys())
    kept = {code: value for code, value in application.data.items() if code in properties}
    problems = forms_engine.validate(new.form_schema, new.form_ui, kept, only=kept)
    invalid = sorted({key.split(".")[0] for key in problems})
    for code in invalid:
        kept.pop(code, None)
    dropped = sorted(set(application.data) - properties)
    old_required = set(old.form_schema.get("required") or [])
    added = sorted(set(new.form_schema.get("required") or []) - old_required - set(kept))
    parts = [_("The service was updated to version %(version)s.") % {"version": new.version}]
    if new.change_note:
        parts.append(new.change_note)
    if invalid:
        parts.append(_("Please answer again: %(fields)s.") % {"fields": _labels(new, invalid)})
    if added:
        parts.append(_("New questions: %(fields)s.") % {"fields": _labels(new, added)})
    if dropped:
        parts.append(_("No longer asked: %(fields)s.") % {"fields": _labels(old, dropped)})
    application.service = new
    application.data = kept
    application.prefilled = {code: source for code, source in application.prefilled.items() if code in kept}
    application.version_notice = " ".join(str(part) for part in parts)
    application.save(update_fields=["service", "data", "prefilled", "version_notice", "updated_at"])
    record_event(
        application,
        Event.VERSION_CHANGED,
        actor=None,
        actor_label="portal",
        details={"from": old.version, "to": new.version, "dropped": dropped, "invalid": invalid, "added": added},
    )
    return application


def _labels(item: ServiceItem, codes: list[str]) -> str:
    steps = forms_engine.form_steps(item.form_schema, item.form_ui)
    labels = {field.code: field.label for step in steps for field in step.fields}
    return "、".join(labels.get(code, code) for code in codes)


# --- materials ---------------------------------------------------------------


def attachment_add(
    *,
    application_id: int,
    user: User,
    upload: UploadedFile,
    material_code: str = "",
    field_code: str = "",
) -> Attachment:
    """Check, encrypt and keep one file for a material (or a file field of the form); it replaces the previous one."""
    checked = uploads.check_upload(upload)
    key = uploads.store(checked.content)
    try:
        return _attachment_add(
            application_id=application_id,
            user=user,
            checked=checked,
            key=key,
            material_code=material_code,
            field_code=field_code,
        )
    except BaseException:
        uploads.delete(key)  # nothing refers to the file when the transaction failed
        raise


@transaction.atomic
def _attachment_add(
    *,
    application_id: int,
    user: User,
    checked: uploads.CheckedUpload,
    key: str,
    material_code: str,
    field_code: str,
) -> Attachment:
    application = locked(application_id)
    require_owner(application, user)
    if application.status == Application.Status.SUPPLEMENT_REQUESTED:
        request = application.supplement_request
        if material_code not in (request.get("materials") or []) and field_code not in (request.get("fields") or []):
            raise DomainError(
                _("Only the materials the department asked for can be changed now."), code="not_requested"
            )
    else:
        require_status(application, Application.Status.DRAFT)
    if bool(material_code) == bool(field_code):
        raise DomainError(
            _("Say which material the file is for."),
            code="validation_error",
            fields={"material": [_("Choose the material this file is for.")]},
        )
    if material_code and material_code not in {entry["code"] for entry in materials_of(application.service)}:
        raise DomainError(
            _("This service has no such material."),
            code="validation_error",
            fields={"material": [_("This service has no such material.")]},
        )
    if field_code:
        ui_field = (application.service.form_ui.get("fields") or {}).get(field_code) or {}
        if ui_field.get("widget") != "file":
            raise DomainError(
                _("This form has no such file field."),
                code="validation_error",
                fields={"field": [_("This form has no such file field.")]},
            )
    application.attachments.filter(material_code=material_code, field_code=field_code, replaced_at__isnull=True).update(
        replaced_at=timezone.now()
    )
    attachment = Attachment.objects.create(
        application=application,
        material_code=material_code,
        field_code=field_code,
        storage_key=key,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        original_name=checked.original_name,
        uploaded_by=user,
    )
    if field_code:
        application.data = {**application.data, field_code: str(attachment.public_id)}
        application.save(update_fields=["data", "updated_at"])
    return attachment


@transaction.atomic
def material_pick_certificate(
    *, application_id: int, user: User, material_code: str, certificate_id: str
) -> Application:
    """Satisfy a material with a certificate from the user's wallet (免提交) instead of an upload."""
    application = locked(application_id)
    require_owner(application, user)
    require_status(application, Application.Status.DRAFT)
    entry = next((each for each in materials_of(application.service) if each["code"] == material_code), None)
    if entry is None or not certificate_type_of(entry):
        raise DomainError(
            _("This material cannot be taken from the certificate wallet."),
            code="validation_error",
            fields={"material": [_("This material cannot be taken from the certificate wallet.")]},
        )
    if not wallet().holds(user_id=user.pk, certificate_id=certificate_id):
        raise DomainError(
            _("This certificate is not in your wallet or is no longer valid."),
            code="validation_error",
            fields={"certificate": [_("This certificate is not in your wallet or is no longer valid.")]},
        )
    application.material_picks = {
        **application.material_picks,
        material_code: {"by": "certificate", "certificate": certificate_id},
    }
    application.save(update_fields=["material_picks", "updated_at"])
    return application


@transaction.atomic
def attachment_remove(*, application_id: int, user: User, attachment_public_id: str) -> None:
    """Take a file off a draft."""
    application = locked(application_id)
    require_owner(application, user)
    require_status(application, Application.Status.DRAFT)
    attachment = application.attachments.filter(public_id=attachment_public_id, replaced_at__isnull=True).first()
    if attachment is None:
        raise NotFound(_("No such file."))
    key = attachment.storage_key
    if attachment.field_code and application.data.get(attachment.field_code) == str(attachment.public_id):
        application.data = {k: v for k, v in application.data.items() if k != attachment.field_code}
        application.save(update_fields=["data", "updated_at"])
    attachment.delete()
    transaction.on_commit(lambda: uploads.delete(key))


def attachment_view_record(*, attachment: Attachment, viewer: User) -> AttachmentView:
    """Keep that a member of staff opened an applicant's file (DESIGN §7: each such view logged)."""
    mine = account_selectors.staff_departments(viewer)
    handling = [attachment.application.department_id]
    handling += list(attachment.application.tasks.values_list("department_id", flat=True).order_by("pk"))
    department_id = next((each for each in handling if each in mine), None)
    return AttachmentView.objects.create(attachment=attachment, viewer=viewer, department_id=department_id)


def application_view_record(*, application: Application, viewer: User, department_id: int | None) -> ApplicationView:
    """Keep that a member of staff opened an application's personal data (DESIGN §7: each such view logged)."""
    return ApplicationView.objects.create(application=application, viewer=viewer, department_id=department_id)


# --- sweeps --------------------------------------------------------------------


def drafts_sweep(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Remind owners of drafts about to expire, then delete expired drafts; returns (reminded, deleted)."""
    now = now or timezone.now()
    remind_before = now + datetime.timedelta(days=settings.DRAFT_REMINDER_DAYS)
    reminded = 0
    due_reminders = Application.objects.filter(
        status=Application.Status.DRAFT,
        draft_reminded_at__isnull=True,
        draft_expires_at__lte=remind_before,
        draft_expires_at__gt=now,
    ).values_list("pk", flat=True)
    for application_id in list(due_reminders[:1000]):
        with transaction.atomic():
            claimed = Application.objects.filter(
                pk=application_id,
                status=Application.Status.DRAFT,
                draft_reminded_at__isnull=True,
                draft_expires_at__lte=remind_before,
            ).update(draft_reminded_at=now)
            if not claimed:
                continue
            application = Application.objects.select_related("service").get(pk=application_id)
            assert application.draft_expires_at is not None
            notify_applicant(
                application,
                "draft_expiring",
                expires_on=timezone.localtime(application.draft_expires_at).date().isoformat(),
            )
            reminded += 1
    expired = Application.objects.filter(status=Application.Status.DRAFT, draft_expires_at__lte=now)
    deleted = expired_drafts_delete(expired, delete=_delete_draft)
    return reminded, deleted


DraftT = TypeVar("DraftT", bound=Model)


def expired_drafts_delete(expired: QuerySet[DraftT], *, delete: Callable[[DraftT], None]) -> int:
    """Delete the drafts ``expired`` selects (up to 1000), each locked and selected again in its own transaction.

    A draft saved since it was listed no longer matches and stays. Returns how many were deleted.
    """
    deleted = 0
    for draft_id in list(expired.values_list("pk", flat=True)[:1000]):
        with transaction.atomic():
            draft = expired.select_for_update().filter(pk=draft_id).first()
            if draft is None:
                continue
            delete(draft)
            deleted += 1
    return deleted
