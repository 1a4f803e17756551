"""Every write to an application: start a draft, fill it, attach materials, submit, withdraw, supplement.

Each action checks the application's current state under a row lock, writes,
and records an event in the same transaction.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts import selectors as account_selectors
from accounts.models import Enterprise, RealNameLevel, User
from approvals import forms_engine, uploads
from approvals.materials import certificate_type_of, material_problems, materials_of, registry_of, wallet
from approvals.models import (
    Application,
    ApplicationEvent,
    ApplicationView,
    Attachment,
    AttachmentView,
    Channel,
    IdempotencyRecord,
    Outbox,
    WorkflowTask,
)
from approvals.prefill import prefill
from core import calendar, crypto
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.queueing import send_task_now
from datahub import registries
from datahub.identity import mask_id, normalize_identity_number, validate_identity_number
from datahub.models import ID_NUMBER_HASH_PURPOSE
from datahub.registries import PersonView
from interaction.actions import notify
from services.models import ItemType, ServiceItem

logger = logging.getLogger(__name__)

QUERY_PASSWORD_PURPOSE = "approvals.query-password"  # noqa: S105  # a hash purpose, not a password
MAX_SEQUENCE = 9999
# Items that nobody applies for: the government acts (处罚, 强制, 检查).
NOT_APPLICABLE_TYPES = {ItemType.PENALTY, ItemType.COERCION, ItemType.INSPECTION}
Event = ApplicationEvent.Action


# --- helpers ---------------------------------------------------------------


def record_event(
    application: Application,
    action: str,
    *,
    actor: User | None,
    old_status: str = "",
    new_status: str = "",
    note: str = "",
    details: dict[str, Any] | None = None,
    department_id: int | None = None,
    actor_label: str = "",
) -> ApplicationEvent:
    """Append one entry to the application's timeline (call inside the action's transaction)."""
    return ApplicationEvent.objects.create(
        application=application,
        action=action,
        actor=actor,
        actor_label=actor_label,
        department_id=department_id,
        old_status=old_status,
        new_status=new_status,
        note=note,
        details=details or {},
    )


def _locked(application_id: int) -> Application:
    try:
        # Only the application row is locked; its service (which most actions read) comes with it.
        return Application.objects.select_for_update(of=("self",)).select_related("service").get(pk=application_id)
    except Application.DoesNotExist:
        raise NotFound(_("No such application.")) from None


def _require_owner(application: Application, user: User) -> None:
    """The applicant, or someone who may act today for the enterprise it was made for; 404 for anyone else.

    A counter application is the recording clerk's until it is submitted, then the person's.
    """
    if is_counter_draft(application):
        if application.recorded_by_id == user.pk:
            return
    elif application.acting_for_id is not None:
        if account_selectors.can_act_for(
            user=user, enterprise_id=application.acting_for_id, item_code=application.implementation_code
        ):
            return
    elif application.applicant_id == user.pk:
        return
    raise NotFound(_("No such application."))


def is_counter_draft(application: Application) -> bool:
    return application.channel == Channel.COUNTER and application.status == Application.Status.DRAFT


def _require_status(application: Application, *statuses: str) -> None:
    if application.status not in statuses:
        raise Conflict(
            _("This cannot be done now: the application is %(status)s.") % {"status": application.get_status_display()},
            code="wrong_status",
        )


def _application_url(application: Application) -> str:
    if application.number:
        return reverse("approvals:application", kwargs={"number": application.number})
    return reverse("approvals:draft", kwargs={"public_id": application.public_id})


def _notify_applicant(application: Application, event: str, **context: Any) -> None:
    if application.applicant_id is None:
        return
    with override(None):
        service_name = application.service.name
    notify(
        application.applicant_id,
        event,
        {
            "number": application.number or "",
            "service_name": service_name,
            "url": _application_url(application),
            **context,
        },
    )


def outbox_send(outbox_id: int) -> None:
    """Hand the routing of one outbox row to a worker (the fast path; the sweeper is the guarantee)."""
    from approvals.tasks import route_application

    send_task_now(route_application, outbox_id)


def outbox_add(application: Application) -> Outbox:
    """Promise, in the caller's transaction, that routing looks at this application after the commit."""
    outbox = Outbox.objects.create(kind=Outbox.Kind.ROUTE, application=application)
    transaction.on_commit(lambda: outbox_send(outbox.pk), robust=True)
    return outbox


def _draft_expiry() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=settings.DRAFT_TTL_DAYS)


# --- drafts ------------------------------------------------------------------


def _published_item(service_code: str) -> ServiceItem:
    item = (
        ServiceItem.objects.published()
        .select_related("department__region")
        .filter(implementation_code=service_code)
        .first()
    )
    if item is None:
        raise NotFound(_("No published service has this code."), code="service_not_found")
    if item.item_type in NOT_APPLICABLE_TYPES or not item.form_schema:
        raise DomainError(_("This service cannot be applied for online."), code="service_not_applicable")
    return item


def check_may_apply(*, user: User, item: ServiceItem, acting_for: Enterprise | None) -> None:
    """Refuse, with the reason, a user who may not apply for this item (level, audience, authorisation)."""
    if user.real_name_level < max(RealNameLevel.BASIC, item.min_real_name_level):
        raise PermissionDenied(
            _("Applying for this service needs real-name level %(level)s; your account is at level %(current)s.")
            % {"level": item.min_real_name_level, "current": user.real_name_level},
            code="real_name_level_too_low",
        )
    if acting_for is not None:
        if not item.for_enterprises:
            raise DomainError(_("This service is for individuals, not for organisations."), code="wrong_audience")
        if not account_selectors.can_act_for(
            user=user, enterprise_id=acting_for.pk, item_code=item.implementation_code
        ):
            raise PermissionDenied(
                _("You are not authorised to apply for this service on behalf of %(name)s.")
                % {"name": acting_for.name},
                code="not_authorised",
            )
    elif not item.for_persons:
        raise DomainError(
            _("This service is for organisations: choose the organisation you act for first."),
            code="wrong_audience",
        )


@transaction.atomic
def application_draft_start(
    *,
    user: User,
    service_code: str,
    acting_for: Enterprise | None = None,
    channel: str = Channel.PC,
    data: dict[str, Any] | None = None,
    minor_id_number: str = "",
) -> Application:
    """A new draft of this service for the user (or the enterprise they act for), prefilled from the registries.

    With ``minor_id_number``, a parent applies for their minor child (监护人代办): the child must be a
    minor of the parent's household in the population registry; the form is filled with the child's
    details, the application is the child's, and everything done on it is recorded as the parent's.
    """
    item = _published_item(service_code)
    check_may_apply(user=user, item=item, acting_for=acting_for)
    child = _minor_of(user, minor_id_number, item=item, acting_for=acting_for) if minor_id_number else None
    application = Application.objects.create(
        applicant=user,
        acting_for=acting_for,
        service=item,
        implementation_code=item.implementation_code,
        department_id=item.department_id,
        channel=channel,
        draft_expires_at=_draft_expiry(),
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
    item = _published_item(service_code)
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
    known = set((item.form_schema.get("properties") or {}).keys())
    unknown = sorted(set(data) - known)
    if unknown:
        raise DomainError(
            _("The form has no such fields."),
            code="validation_error",
            fields={code: [_("This form has no such field.")] for code in unknown},
        )
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
    application = _locked(application_id)
    _require_owner(application, user)
    _require_status(application, Application.Status.DRAFT)
    _merge_draft_data(application, data)
    if application.draft_expires_at is not None:
        application.draft_expires_at = _draft_expiry()
        application.draft_reminded_at = None
        application.save(update_fields=["draft_expires_at", "draft_reminded_at", "updated_at"])
    return application


@transaction.atomic
def application_draft_delete(*, application_id: int, user: User) -> None:
    """Throw a draft away, with its files."""
    application = _locked(application_id)
    _require_owner(application, user)
    _require_status(application, Application.Status.DRAFT)
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
    application = _locked(application_id)
    _require_status(application, Application.Status.DRAFT)
    old = application.service
    if old.status == ServiceItem.Status.PUBLISHED:
        return application
    new = ServiceItem.objects.published().filter(implementation_code=application.implementation_code).first()
    may_apply = new is not None and bool(new.form_schema)
    if new is not None and may_apply and application.applicant is not None and not is_counter_draft(application):
        try:
            check_may_apply(user=application.applicant, item=new, acting_for=application.acting_for)
        except DomainError:
            may_apply = False
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
    application = _locked(application_id)
    _require_owner(application, user)
    if application.status == Application.Status.SUPPLEMENT_REQUESTED:
        request = application.supplement_request
        if material_code not in (request.get("materials") or []) and field_code not in (request.get("fields") or []):
            raise DomainError(
                _("Only the materials the department asked for can be changed now."), code="not_requested"
            )
    else:
        _require_status(application, Application.Status.DRAFT)
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
    application = _locked(application_id)
    _require_owner(application, user)
    _require_status(application, Application.Status.DRAFT)
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
    application = _locked(application_id)
    _require_owner(application, user)
    _require_status(application, Application.Status.DRAFT)
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


# --- submission --------------------------------------------------------------


def _next_sequence(implementation_code: str, day: datetime.date) -> int:
    """The next 办件编号 sequence for this code and day: one atomic upsert, so concurrent submits never share one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO approvals_numbersequence (implementation_code, day, last) VALUES (%s, %s, 1) "
            "ON CONFLICT (implementation_code, day) DO UPDATE SET last = approvals_numbersequence.last + 1 "
            "RETURNING last",
            [implementation_code, day],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def _new_number(implementation_code: str) -> str:
    day = timezone.localdate()  # Asia/Shanghai
    sequence = _next_sequence(implementation_code, day)
    if sequence > MAX_SEQUENCE:
        logger.critical(
            "application numbers exhausted",
            extra={"implementation_code": implementation_code, "day": day.isoformat()},
        )
        raise DomainError(
            _("This service has received the most applications it can number today. Please submit again tomorrow."),
            code="numbers_exhausted",
        )
    return f"{implementation_code}{day:%Y%m%d}{sequence:04d}"


def query_password_hash(number: str, password: str) -> str:
    return crypto.keyed_hash(f"{number}:{password}", purpose=QUERY_PASSWORD_PURPOSE)


def submission_problems(application: Application) -> dict[str, list[str]]:
    """Everything that stops this application from being submitted: answers and materials."""
    item = application.service
    problems = forms_engine.validate(item.form_schema, item.form_ui, application.data)
    problems.update(material_problems(application))
    return problems


def request_fingerprint(payload: Any) -> str:
    """A stable hash of a request body, to tell a retry from a different request under the same key."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _submitted_response(application: Application) -> dict[str, Any]:
    return {
        "id": str(application.public_id),
        "number": application.number,
        "status": str(application.status),
        "query_password": crypto.decrypt(application.query_password_encrypted),
    }


def application_submit(
    *,
    application_id: int,
    user: User,
    idempotency_key: str = "",
    request_hash: str = "",
) -> tuple[Application, dict[str, Any]]:
    """Submit a draft: number it, give it a query password, pin its version, and promise its routing.

    With an idempotency key, a repeat of the same request gets the first answer;
    the same key for a different request is refused. Without one, a second
    submit of the same draft (a double click, a second tab) finds it submitted
    and gets the same answer too.
    """
    try:
        return _application_submit(
            application_id=application_id, user=user, idempotency_key=idempotency_key, request_hash=request_hash
        )
    except IntegrityError:
        # Two requests with one new key raced past the lookup; the loser reads the winner's answer.
        if not idempotency_key:
            raise
        record = IdempotencyRecord.objects.select_related("application").filter(user=user, key=idempotency_key).first()
        if record is None:
            raise
        if record.request_hash != request_hash or record.application_id != application_id:
            raise _key_reused() from None
        return record.application, record.response


def _key_reused() -> Conflict:
    return Conflict(_("This idempotency key was already used for a different request."), code="idempotency_key_reused")


@transaction.atomic
def _application_submit(
    *, application_id: int, user: User, idempotency_key: str, request_hash: str
) -> tuple[Application, dict[str, Any]]:
    application = _locked(application_id)
    _require_owner(application, user)
    if idempotency_key:
        record = IdempotencyRecord.objects.filter(user=user, key=idempotency_key).first()
        if record is not None:
            if record.request_hash != request_hash or record.application_id != application.pk:
                raise _key_reused()
            return application, record.response
    if application.status != Application.Status.DRAFT and application.number:
        # Already submitted by an earlier click or another tab: the same answer, nothing new.
        response = _submitted_response(application)
        if idempotency_key:
            IdempotencyRecord.objects.create(
                user=user, key=idempotency_key, request_hash=request_hash, application=application, response=response
            )
        return application, response
    _require_status(application, Application.Status.DRAFT)
    item = application.service
    if item.status != ServiceItem.Status.PUBLISHED:
        raise Conflict(
            _("This service has changed since you started. Open your draft again to continue."),
            code="service_version_changed",
        )
    is_counter = application.channel == Channel.COUNTER
    if not is_counter:
        # At the counter the clerk checked the person's document in hand (level 3) when recording.
        check_may_apply(user=user, item=item, acting_for=application.acting_for)
    problems = submission_problems(application)
    if problems:
        raise DomainError(
            _("Some answers or materials are missing or need correcting."), code="validation_error", fields=problems
        )
    application.data = forms_engine.visible_data(item.form_ui, application.data)
    if not is_counter and not application.is_for_minor:
        _snapshot_applicant(application, user)
    number = _new_number(application.implementation_code)
    password = f"{secrets.randbelow(10**6):06d}"
    old = application.status
    application.number = number
    application.query_password_hash = query_password_hash(number, password)
    application.query_password_encrypted = crypto.encrypt(password)
    application.status = Application.Status.SUBMITTED
    application.submitted_at = timezone.now()
    application.draft_expires_at = None
    application.save(
        update_fields=[
            "number",
            "query_password_hash",
            "query_password_encrypted",
            "status",
            "submitted_at",
            "draft_expires_at",
            "data",
            *APPLICANT_SNAPSHOT_FIELDS,
            "updated_at",
        ]
    )
    record_event(
        application,
        Event.SUBMITTED,
        actor=user,
        old_status=old,
        new_status=application.status,
        department_id=application.department_id if is_counter else None,
    )
    outbox_add(application)
    _notify_applicant(application, "application_submitted")
    response = _submitted_response(application)
    if idempotency_key:
        IdempotencyRecord.objects.create(
            user=user, key=idempotency_key, request_hash=request_hash, application=application, response=response
        )
    return application, response


# Who the applicant was when the application was made for them (the snapshot the record keeps).
APPLICANT_SNAPSHOT_FIELDS = (
    "applicant_name",
    "applicant_id_type",
    "applicant_id_hash",
    "applicant_id_encrypted",
    "applicant_id_masked",
)


def _snapshot_applicant(application: Application, user: User) -> None:
    application.applicant_name = user.full_name
    application.applicant_id_type = user.id_type
    application.applicant_id_hash = user.id_number_hash
    application.applicant_id_encrypted = user.id_number_encrypted
    application.applicant_id_masked = user.id_number_masked


# --- after submission --------------------------------------------------------


@transaction.atomic
def application_withdraw(*, application_id: int, user: User, reason: str = "") -> Application:
    """The applicant takes the application back before a decision; open work on it ends."""
    application = _locked(application_id)
    _require_owner(application, user)
    _require_status(application, *Application.WITHDRAWABLE)
    old = application.status
    application.status = Application.Status.WITHDRAWN
    application.withdrawn_at = timezone.now()
    application.save(update_fields=["status", "withdrawn_at", "updated_at"])
    application.tasks.filter(status__in=WorkflowTask.OPEN).update(
        status=WorkflowTask.Status.CANCELLED, finished_at=application.withdrawn_at
    )
    record_event(
        application,
        Event.WITHDRAWN,
        actor=user,
        old_status=old,
        new_status=application.status,
        details={"reason": reason[:500]} if reason else {},
    )
    _notify_applicant(application, "application_withdrawn")
    if application.bundle_application_id is not None:
        from approvals import bundles  # bundles builds on these actions

        bundles.child_finished(application)
    return application


@transaction.atomic
def application_request_supplement(
    *,
    application_id: int,
    actor: User,
    department_id: int,
    fields: list[str],
    materials: list[str],
    note: str,
) -> Application:
    """A clerk asks, all at once (一次性告知), for the answers and materials that are missing or wrong."""
    application = _locked(application_id)
    if department_id not in account_selectors.staff_departments(actor):
        raise PermissionDenied(_("You do not work for this department."))
    handles = (
        department_id == application.department_id
        or application.tasks.filter(department_id=department_id, status__in=WorkflowTask.OPEN).exists()
    )
    if not handles:
        raise PermissionDenied(_("Your department does not handle this application."), code="not_handling")
    return request_supplement_locked(
        application, actor=actor, department_id=department_id, fields=fields, materials=materials, note=note
    )


def request_supplement_locked(
    application: Application,
    *,
    actor: User,
    department_id: int,
    fields: list[str],
    materials: list[str],
    note: str,
) -> Application:
    """Ask for a 补正 on an application the caller has locked (a task decision or the action above)."""
    _require_status(
        application, Application.Status.SUBMITTED, Application.Status.ACCEPTED, Application.Status.IN_REVIEW
    )
    if application.accepted_at is None and application.events.filter(action=Event.SUPPLEMENT_REQUESTED).exists():
        # 行政许可法 第三十二条: before acceptance, everything missing is told at once (一次性告知).
        raise Conflict(
            _("Everything missing is asked for at once (一次性告知): this application had its 补正 already."),
            code="supplement_once",
        )
    known_fields = set((application.service.form_schema.get("properties") or {}).keys())
    known_materials = {entry["code"] for entry in materials_of(application.service)}
    problems: dict[str, list[str]] = {}
    if not fields and not materials:
        problems["fields"] = [_("Say which answers or materials are needed.")]
    if set(fields) - known_fields:
        problems["fields"] = [_("The form has no such fields.")]
    if set(materials) - known_materials:
        problems["materials"] = [_("This service has no such material.")]
    if not note.strip():
        problems["note"] = [_("Tell the applicant what is needed and why.")]
    if problems:
        raise DomainError(
            _("The request for more information is incomplete."), code="validation_error", fields=problems
        )
    old = application.status
    application.status = Application.Status.SUPPLEMENT_REQUESTED
    application.clock_stopped_at = application.clock_stopped_at or timezone.now()  # 补正 stops the clock
    application.supplement_request = {
        "fields": sorted(set(fields)),
        "materials": sorted(set(materials)),
        "note": note.strip(),
    }
    application.save(update_fields=["status", "supplement_request", "clock_stopped_at", "updated_at"])
    record_event(
        application,
        Event.SUPPLEMENT_REQUESTED,
        actor=actor,
        department_id=department_id,
        old_status=old,
        new_status=application.status,
        note=note.strip(),
        details=application.supplement_request,
    )
    _notify_applicant(application, "application_supplement_requested", items=note.strip())
    return application


@transaction.atomic
def application_supplement(*, application_id: int, user: User, data: dict[str, Any]) -> Application:
    """The applicant answers a 补正: only what was asked may change; then the application goes back to review."""
    application = _locked(application_id)
    _require_owner(application, user)
    _require_status(application, Application.Status.SUPPLEMENT_REQUESTED)
    request = application.supplement_request
    allowed = set(request.get("fields") or [])
    outside = sorted(set(data) - allowed)
    if outside:
        raise DomainError(
            _("Only the answers the department asked for can be changed."),
            code="not_requested",
            fields={code: [_("The department did not ask to change this.")] for code in outside},
        )
    item = application.service
    changed = {**application.data, **{code: value for code, value in data.items() if value not in (None, "", [])}}
    for code, value in data.items():
        if value in (None, "", []):
            changed.pop(code, None)
    problems = forms_engine.validate(item.form_schema, item.form_ui, changed)
    problems.update(material_problems(application))
    if problems:
        raise DomainError(
            _("Some answers or materials are missing or need correcting."), code="validation_error", fields=problems
        )
    missing = [
        code
        for code in request.get("materials") or []
        if not application.attachments.filter(
            material_code=code, replaced_at__isnull=True, created_at__gte=_last_request_time(application)
        ).exists()
    ]
    if missing:
        raise DomainError(
            _("Upload a new file for each material the department asked for."),
            code="validation_error",
            fields={f"material.{code}": [_("Upload a new file for this material.")] for code in missing},
        )
    old = application.status
    application.data = forms_engine.visible_data(item.form_ui, changed)
    # Back to where it was asked from: waiting for acceptance, or under review.
    application.status = Application.Status.IN_REVIEW if application.accepted_at else Application.Status.SUBMITTED
    _restart_clock(application)
    application.save(update_fields=["data", "status", "due_date", "legal_due_date", "clock_stopped_at", "updated_at"])
    record_event(
        application,
        Event.SUPPLEMENTED,
        actor=user,
        old_status=old,
        new_status=application.status,
        details={"fields": sorted(data), "materials": request.get("materials") or []},
    )
    outbox_add(application)  # the stage that asked opens again
    return application


def _restart_clock(application: Application) -> None:
    """The working days the 补正 stood do not count: the due dates move on by as many."""
    if application.clock_stopped_at is None:
        return
    stopped = calendar.working_days_between(calendar.local_day(application.clock_stopped_at), timezone.localdate())
    if stopped:
        if application.due_date is not None:
            application.due_date = calendar.add_working_days(application.due_date, stopped)
        if application.legal_due_date is not None:
            application.legal_due_date = calendar.add_working_days(application.legal_due_date, stopped)
    application.clock_stopped_at = None


def _last_request_time(application: Application) -> datetime.datetime:
    event = application.events.filter(action=Event.SUPPLEMENT_REQUESTED).order_by("-at", "-pk").first()
    return event.at if event is not None else application.created_at


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
            _notify_applicant(
                application,
                "draft_expiring",
                expires_on=timezone.localtime(application.draft_expires_at).date().isoformat(),
            )
            reminded += 1
    deleted = 0
    expired = Application.objects.filter(status=Application.Status.DRAFT, draft_expires_at__lte=now).values_list(
        "pk", flat=True
    )
    for application_id in list(expired[:1000]):
        with transaction.atomic():
            expiring = (
                Application.objects.select_for_update()
                .filter(pk=application_id, status=Application.Status.DRAFT, draft_expires_at__lte=now)
                .first()
            )
            if expiring is None:
                continue
            keys = list(expiring.attachments.values_list("storage_key", flat=True))
            expiring.delete()
            transaction.on_commit(lambda keys=keys: uploads.delete_all(keys))  # type: ignore[misc]
            deleted += 1
    return reminded, deleted


def application_view_record(*, application: Application, viewer: User, department_id: int | None) -> ApplicationView:
    """Keep that a member of staff opened an application's personal data (DESIGN §7: each such view logged)."""
    return ApplicationView.objects.create(application=application, viewer=viewer, department_id=department_id)
