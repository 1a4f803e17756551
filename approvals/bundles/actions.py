"""The writes of 一件事一次办: start, fill, attach, submit or delete a bundle, and complete it when its children end.

A ``BundleApplication`` holds the answers the applicant gave once; each item of the
bundle has a child ``Application`` that is an ordinary application in every other
respect: its own number and query password, its own routing outbox row (so the
workers route the children in parallel), its own tasks and events. Every write to a
child goes through ``approvals.applications``, so each child keeps the rules a single
application follows (its own schema, materials, submission checks).

The bundle's one form is merged from the children's (``approvals.applications.merged_form``).

Locks are taken bundle first, then its children in id order. Routing locks a child
and then the bundle (``child_finished``, connected to routing's ``bundle_child_finished``
hooks at start-up), but only once the bundle is submitted, when nothing here locks its
children any more.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Enterprise, User
from approvals import uploads
from approvals.access import may_see_bundle
from approvals.applications import actions, rules, submission
from approvals.applications.merged_form import (
    EMPTY,
    file_field_codes,
    form_properties,
    merged_data,
    merged_prefilled,
    require_known_fields,
    validate_answers,
)
from approvals.bundles import order
from approvals.bundles.selectors import active_bundle, bundle_children, bundle_url
from approvals.materials import certificate_type_of, materials_of
from approvals.models import Application, Attachment, BundleApplication
from core.errors import Conflict, DomainError, NotFound
from interaction.actions import notify
from services import selectors as service_selectors
from services.models import Bundle, ServiceItem


def _draft_expiry() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=settings.DRAFT_TTL_DAYS)


def _locked(bundle_id: int, user: User) -> BundleApplication:
    bundle = (
        BundleApplication.objects.select_for_update(of=("self",))
        .select_related("bundle", "acting_for")
        .filter(pk=bundle_id)
        .first()
    )
    if bundle is None or not may_see_bundle(bundle, user):
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
    """The bundle's items, each published, open to online application and to this user; else the first problem.

    A bundle for an enterprise that does not exist yet is applied for by its future legal representative,
    as themselves: nobody acts for an enterprise in it.
    """
    if bundle.is_for_new_enterprise and acting_for is not None:
        raise DomainError(
            _("This bundle registers a new enterprise: apply as yourself, not on behalf of an organisation."),
            code="wrong_audience",
        )
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
        if not rules.is_online(item):
            raise _naming(
                item, DomainError(_("This service cannot be applied for online."), code="service_not_applicable")
            )
        try:
            rules.check_may_apply(
                user=user, item=item, acting_for=acting_for, for_new_enterprise=bundle.is_for_new_enterprise
            )
        except DomainError as error:
            raise _naming(item, error) from None
    return items


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
        child = actions.application_draft_start(
            user=user,
            service_code=item.implementation_code,
            acting_for=acting_for,
            for_new_enterprise=bundle.is_for_new_enterprise,
        )
        child.bundle_application = application
        # The bundle's draft expires as a whole (bundle_drafts_sweep); a child alone never does.
        child.draft_expires_at = None
        child.save(update_fields=["bundle_application", "draft_expires_at", "updated_at"])
        children.append(child)
    application.data = merged_data(children)
    application.prefilled = merged_prefilled(children)
    application.save(update_fields=["data", "prefilled", "updated_at"])
    return application


def bundle_draft_children(bundle: BundleApplication) -> list[Application]:
    """A draft's children, each moved on to its item's published version where that changed (saying what did)."""
    children = bundle_children(bundle)
    if all(child.service.status == ServiceItem.Status.PUBLISHED for child in children):
        return children
    for child in children:
        if child.service.status != ServiceItem.Status.PUBLISHED:
            actions.draft_follow_new_version(application_id=child.pk)
    return bundle_children(bundle)


@transaction.atomic
def bundle_draft_update(*, bundle_id: int, user: User, data: dict[str, Any]) -> BundleApplication:
    """Save answers once into every child whose form has the field; any wrong answer changes nothing anywhere."""
    bundle = _locked(bundle_id, user)
    _require_draft(bundle)
    children = _locked_children(bundle)
    require_known_fields(children, data)
    present = [code for code, value in data.items() if value not in EMPTY]
    problems = validate_answers(children, data, only=present)
    if problems:
        raise DomainError(_("Some answers need correcting."), code="validation_error", fields=problems)
    updated = []
    for child in children:
        part = {code: value for code, value in data.items() if code in form_properties(child.service)}
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
    return field_code in file_field_codes(child.service)


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
    expired = BundleApplication.objects.filter(status=BundleApplication.Status.DRAFT, draft_expires_at__lte=now)
    return actions.expired_drafts_delete(expired, delete=_delete_draft)


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
            rules.check_may_apply(
                user=user,
                item=child.service,
                acting_for=bundle.acting_for,
                for_new_enterprise=bundle.bundle.is_for_new_enterprise,
            )
        except DomainError as error:
            raise _naming(child.service, error) from None
    problems = order.submission_problems(bundle.bundle, children)
    if problems:
        raise DomainError(
            _("Some answers or materials are missing or need correcting."), code="validation_error", fields=problems
        )
    for child in children:
        submission.application_submit(
            application_id=child.pk,
            user=user,
            idempotency_key=f"{idempotency_key}:{child.pk}" if idempotency_key else "",
            request_hash=submission.request_fingerprint(
                {"bundle": str(bundle.public_id), "child": str(child.public_id)}
            ),
            waits=order.waits(bundle.bundle, child.service),
        )
    bundle.status = BundleApplication.Status.SUBMITTED
    bundle.submitted_at = timezone.now()
    bundle.draft_expires_at = None
    bundle.save(update_fields=["status", "submitted_at", "draft_expires_at", "updated_at"])
    return bundle


def child_finished(application: Application) -> None:
    """Routing ended a child (in routing's transaction): the children waiting for it start or end
    (``order.dependants_settle``); when every sibling has ended too, the bundle is complete.

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
    order.dependants_settle(bundle, application)
    if Application.objects.filter(bundle_application=bundle).exclude(status__in=Application.FINAL).exists():
        return
    bundle.status = BundleApplication.Status.COMPLETED
    bundle.completed_at = timezone.now()
    bundle.save(update_fields=["status", "completed_at", "updated_at"])
    notify(bundle.applicant_id, "bundle_completed", {"bundle_name": bundle.bundle.name, "url": bundle_url(bundle)})
