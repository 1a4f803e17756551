"""Submission and what follows it on the applicant's side: submit, withdraw, and the 补正 (asked and answered).

Each action checks the application's current state under a row lock, writes,
and records an event in the same transaction.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import secrets
from collections.abc import Collection
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from accounts.models import User
from approvals import forms_engine
from approvals.applications import parties
from approvals.applications.numbering import new_number, query_password_hash
from approvals.applications.rules import (
    APPLICANT_SNAPSHOT_FIELDS,
    check_may_apply,
    is_for_new_enterprise,
    locked,
    require_owner,
    require_status,
)
from approvals.journal import notify_applicant, record_event
from approvals.materials import material_problems, materials_of
from approvals.models import Application, ApplicationEvent, Channel, IdempotencyRecord, WorkflowTask
from approvals.outbox import outbox_add
from approvals.routing.deadlines import clock_restart
from approvals.routing.engine import bundle_child_finished
from core import crypto
from core.errors import Conflict, DomainError, PermissionDenied
from services.models import FOUNDING_FIELDS, FOUNDING_MATERIAL_SOURCES, ServiceItem

Event = ApplicationEvent.Action


def submission_problems(application: Application, *, given_later: Collection[str] = ()) -> dict[str, list[str]]:
    """Everything that stops this application from being submitted: answers and materials.

    ``given_later`` names answers and materials (``material.<code>``) that another application of its
    bundle will give it before it is routed (``founding_given``): their absence is no problem.
    """
    item = application.service
    problems = forms_engine.validate(item.form_schema, item.form_ui, application.data)
    problems.update(material_problems(application))
    return {key: messages for key, messages in problems.items() if key not in given_later}


def founding_given(item: ServiceItem) -> set[str]:
    """What the registration of a new enterprise gives an application of this item: answers, and materials
    as ``material.<code>`` (FOUNDING_FIELDS, FOUNDING_MATERIAL_SOURCES)."""
    given = set(FOUNDING_FIELDS) & set((item.form_schema.get("properties") or {}).keys())
    given.update(
        f"material.{entry['code']}" for entry in materials_of(item) if entry.get("source") in FOUNDING_MATERIAL_SOURCES
    )
    return given


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
    waits: bool = False,
) -> tuple[Application, dict[str, Any]]:
    """Submit a draft: number it, give it a query password, pin its version, and promise its routing.

    With an idempotency key, a repeat of the same request gets the first answer;
    the same key for a different request is refused. Without one, a second
    submit of the same draft (a double click, a second tab) finds it submitted
    and gets the same answer too.

    A child of a bundle that ``waits`` for others is submitted without its routing promise: the bundle
    writes it once they are approved (``approvals.bundles.actions.child_finished``). Waiting in a bundle
    for a new enterprise, it need not have what the enterprise's registration gives it (``founding_given``).
    """
    try:
        return _application_submit(
            application_id=application_id,
            user=user,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            waits=waits,
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
    *, application_id: int, user: User, idempotency_key: str, request_hash: str, waits: bool
) -> tuple[Application, dict[str, Any]]:
    application = locked(application_id)
    require_owner(application, user)
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
    require_status(application, Application.Status.DRAFT)
    item = application.service
    if item.status != ServiceItem.Status.PUBLISHED:
        raise Conflict(
            _("This service has changed since you started. Open your draft again to continue."),
            code="service_version_changed",
        )
    is_counter = application.channel == Channel.COUNTER
    for_new_enterprise = is_for_new_enterprise(application)
    if not is_counter:
        # At the counter the clerk checked the person's document in hand (level 3) when recording.
        check_may_apply(user=user, item=item, acting_for=application.acting_for, for_new_enterprise=for_new_enterprise)
    problems = submission_problems(
        application, given_later=founding_given(item) if waits and for_new_enterprise else ()
    )
    if problems:
        raise DomainError(
            _("Some answers or materials are missing or need correcting."), code="validation_error", fields=problems
        )
    application.data = forms_engine.visible_data(item.form_ui, application.data)
    if not is_counter and not application.is_for_minor:
        _snapshot_applicant(application, user)
    number = new_number(application.implementation_code)
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
    # Made by several people together: routed once every party has confirmed (parties.party_confirm).
    everyone_agreed = not parties.party_defs(item) or parties.parties_record(
        application, user=user, at_counter=is_counter
    )
    # A bundle's child that waits for another child is routed when that one is approved (bundles.order).
    if everyone_agreed and not waits:
        outbox_add(application)
    notify_applicant(application, "application_submitted")
    response = _submitted_response(application)
    if idempotency_key:
        IdempotencyRecord.objects.create(
            user=user, key=idempotency_key, request_hash=request_hash, application=application, response=response
        )
    return application, response


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
    application = locked(application_id)
    require_owner(application, user)
    require_status(application, *Application.WITHDRAWABLE)
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
    notify_applicant(application, "application_withdrawn")
    if application.bundle_application_id is not None:
        bundle_child_finished.call(application)
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
    application = locked(application_id)
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
    require_status(application, *Application.SUPPLEMENTABLE)
    if parties.is_waiting(application):
        # Answering a 补正 routes the application: never before every party has confirmed it.
        raise Conflict(
            _("This application waits for the other party to confirm it; nothing can be asked before."),
            code="waiting_for_parties",
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
    notify_applicant(application, "application_supplement_requested", items=note.strip())
    return application


@transaction.atomic
def application_supplement(*, application_id: int, user: User, data: dict[str, Any]) -> Application:
    """The applicant answers a 补正: only what was asked may change; then the application goes back to review."""
    application = locked(application_id)
    require_owner(application, user)
    require_status(application, Application.Status.SUPPLEMENT_REQUESTED)
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
    # An answer given at submission and not asked for is not judged again: a date that could not be
    # before the day of submission (an appointment) may be past by now.
    problems = {
        key: texts
        for key, texts in forms_engine.validate(item.form_schema, item.form_ui, changed).items()
        if key.split(".", 1)[0] in allowed or key.split(".", 1)[0] not in application.data
    }
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
    clock_restart(application)
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


def _last_request_time(application: Application) -> datetime.datetime:
    event = application.events.filter(action=Event.SUPPLEMENT_REQUESTED).order_by("-at", "-pk").first()
    return event.at if event is not None else application.created_at
