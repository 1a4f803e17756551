"""The rules every write to an application checks first: the row lock, the owner, the status, who may apply."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from accounts.models import Enterprise, RealNameLevel, User
from approvals.access import may_act_on
from approvals.models import Application
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from services.models import ItemType, ServiceItem

# Items that nobody applies for: the government acts (处罚, 强制, 检查).
NOT_APPLICABLE_TYPES = {ItemType.PENALTY, ItemType.COERCION, ItemType.INSPECTION}


def locked(application_id: int) -> Application:
    try:
        # Only the application row is locked; its service (which most actions read) comes with it.
        return Application.objects.select_for_update(of=("self",)).select_related("service").get(pk=application_id)
    except Application.DoesNotExist:
        raise NotFound(_("No such application.")) from None


def require_owner(application: Application, user: User) -> None:
    """The applicant, or someone who may act today for the enterprise it was made for (``access``); 404 for
    anyone else."""
    if not may_act_on(application, user):
        raise NotFound(_("No such application."))


def require_status(application: Application, *statuses: str) -> None:
    if application.status not in statuses:
        raise Conflict(
            _("This cannot be done now: the application is %(status)s.") % {"status": application.get_status_display()},
            code="wrong_status",
        )


def draft_expiry() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=settings.DRAFT_TTL_DAYS)


def published_item(service_code: str) -> ServiceItem:
    item = (
        ServiceItem.objects.published()
        .select_related("department__region")
        .filter(implementation_code=service_code)
        .first()
    )
    if item is None:
        raise NotFound(_("No published service has this code."), code="service_not_found")
    if not is_online(item):
        raise DomainError(_("This service cannot be applied for online."), code="service_not_applicable")
    return item


def is_online(item: ServiceItem) -> bool:
    """Whether this item is applied for online: a kind of item people apply for, with a form to fill."""
    return item.item_type not in NOT_APPLICABLE_TYPES and bool(item.form_schema)


def online_only(items: QuerySet[ServiceItem]) -> QuerySet[ServiceItem]:
    """``is_online`` as a filter of a query of items."""
    return items.exclude(item_type__in=NOT_APPLICABLE_TYPES).exclude(form_schema={})


def needed_level(item: ServiceItem) -> int:
    """The real-name level applying for this item needs (never below 初级实名)."""
    return max(RealNameLevel.BASIC, item.min_real_name_level)


def level_label(level: int) -> str:
    """A real-name level by its name (初级实名), as people know it; a level the portal does not define by number."""
    if level in RealNameLevel.values:
        return str(RealNameLevel(level).label)
    return _("real-name level %(level)s") % {"level": level}


def is_for_new_enterprise(application: Application) -> bool:
    """Whether this is a child of a bundle for an enterprise that does not exist yet (``Bundle.founding_item_code``)."""
    bundle = application.bundle_application
    return bundle is not None and bundle.bundle.is_for_new_enterprise


def apply_problem(
    *, user: User, item: ServiceItem, acting_for: Enterprise | None, for_new_enterprise: bool = False
) -> DomainError | None:
    """Why this user may not apply for this item now (real-name level, audience, authorisation), or None.

    The actions refuse with it (``check_may_apply``); pages show its message, or send someone whose level
    is too low (code ``real_name_level_too_low``) to raise it. For an enterprise that does not exist yet
    (``for_new_enterprise``) its future legal representative applies as themselves, for organisations' items too.
    """
    if user.real_name_level < needed_level(item):
        return PermissionDenied(
            _("Applying for this service needs %(level)s; your account's level is %(current)s.")
            % {"level": level_label(needed_level(item)), "current": level_label(user.real_name_level)},
            code="real_name_level_too_low",
        )
    if acting_for is not None:
        if not item.for_enterprises:
            return DomainError(_("This service is for individuals, not for organisations."), code="wrong_audience")
        if not account_selectors.can_act_for(
            user=user, enterprise_id=acting_for.pk, item_code=item.implementation_code
        ):
            return PermissionDenied(
                _("You are not authorised to apply for this service on behalf of %(name)s.")
                % {"name": acting_for.name},
                code="not_authorised",
            )
    elif not item.for_persons and not for_new_enterprise:
        return DomainError(
            _("This service is for organisations: choose the organisation you act for first."),
            code="wrong_audience",
        )
    return None


def check_may_apply(
    *, user: User, item: ServiceItem, acting_for: Enterprise | None, for_new_enterprise: bool = False
) -> None:
    """Refuse, with the reason, a user who may not apply for this item (``apply_problem``)."""
    problem = apply_problem(user=user, item=item, acting_for=acting_for, for_new_enterprise=for_new_enterprise)
    if problem is not None:
        raise problem


# Who the applicant was when the application was made for them (the snapshot the record keeps).
APPLICANT_SNAPSHOT_FIELDS = (
    "applicant_name",
    "applicant_id_type",
    "applicant_id_hash",
    "applicant_id_encrypted",
    "applicant_id_masked",
)
