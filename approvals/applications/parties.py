"""Applications made by several people together (结婚登记: a man and a woman), each of them seen.

An item's workflow names its parties (``"parties"``: a role and the form fields of each
one's name and identity number) and the registry check they must pass (``"party_check"``).
One party starts and submits online; the application then waits, unrouted, until every other
party has confirmed it from their own account. A party is matched by their verified real-name
identity against the number the applicant gave, never by what the applicant typed alone.

Consent first: the applicant's own registry record is read when they submit; another party's
only once they have confirmed. When the last one confirms, every party is checked against the
population registry (name and number, sex, legal age, no spouse); a failure ends the application
(不予受理) with the reason, told to all of them, and nothing is routed. When it passes, routing
sends it to the registrar, who decides at the visit.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from accounts.models import RealNameLevel, User
from approvals.applications.rules import needed_level, require_status
from approvals.journal import notify_applicant, record_event
from approvals.models import Application, ApplicationEvent, ApplicationParty, Outcome
from approvals.outbox import outbox_add
from core import crypto
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from datahub import registries
from datahub.identity import Gender, IdentityType, mask_id, normalize_identity_number
from datahub.models import ID_NUMBER_HASH_PURPOSE, PersonStatus
from interaction.actions import notify
from services.models import ServiceItem

Event = ApplicationEvent.Action
REGISTRY_READER = "system:party-check"
MARRIAGE = "marriage"
DIVORCE = "divorce"
# 民法典 第一千零四十七条: 结婚年龄，男不得早于二十二周岁，女不得早于二十周岁.
MARRIAGE_AGES = {"male": 22, "female": 20}
ROLE_GENDERS = {"male": Gender.MALE, "female": Gender.FEMALE}
ROLE_LABELS = {"male": gettext_lazy("the man"), "female": gettext_lazy("the woman")}


@dataclass(frozen=True)
class PartyDef:
    role: str
    name_field: str
    id_field: str


def party_defs(item: ServiceItem) -> list[PartyDef]:
    """The parties an item's applications are made by, from its workflow; empty for one applicant."""
    flow = item.workflow if isinstance(item.workflow, dict) else {}
    return [
        PartyDef(role=str(entry["role"]), name_field=str(entry["name"]), id_field=str(entry["id_number"]))
        for entry in flow.get("parties") or []
        if isinstance(entry, dict)
    ]


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def _hashes_of(user: User) -> list[str]:
    if not user.is_real_name_verified or not user.id_number_encrypted:
        return []
    return crypto.keyed_hashes(crypto.decrypt(user.id_number_encrypted), purpose=ID_NUMBER_HASH_PURPOSE)


# --- at submission -----------------------------------------------------------------


def parties_record(application: Application, *, user: User, at_counter: bool) -> bool:
    """Record the parties of an application being submitted; whether it may be routed now.

    Online, the applicant's party is confirmed (and their own record read) and the others wait;
    at the counter the clerk has seen every party, so all are confirmed and checked at once.
    Refuses, changing nothing (the caller's transaction rolls back), when the applicant is not
    one of the parties, when two parties are one person, or when the registry says no.
    """
    now = timezone.now()
    own_hashes = set(_hashes_of(user))
    parties = []
    for definition in party_defs(application.service):
        number = normalize_identity_number(str(application.data.get(definition.id_field) or ""))
        parties.append(
            ApplicationParty(
                application=application,
                role=definition.role,
                name=str(application.data.get(definition.name_field) or "").strip(),
                id_type=IdentityType.RESIDENT_ID,
                id_number_hash=crypto.keyed_hash(number, purpose=ID_NUMBER_HASH_PURPOSE),
                id_number_encrypted=crypto.encrypt(number),
                id_number_masked=mask_id(number),
            )
        )
    if len({party.id_number_hash for party in parties}) != len(parties):
        raise DomainError(
            _("The parties must be different people: each needs their own identity number."),
            code="parties_not_distinct",
        )
    if at_counter:
        problems = _registry_problems(application, parties)
        if problems:
            raise DomainError(" ".join(problems), code="registry_check_failed")
        for party in parties:
            party.confirmed_at = now
        ApplicationParty.objects.bulk_create(parties)
        return True
    own = [party for party in parties if party.id_number_hash in own_hashes and user.id_type == party.id_type]
    if len(own) != 1:
        raise DomainError(
            _(
                "You can apply only as one of the parties: your own name and identity number must be one of "
                "those on the form (as your verified identity has them)."
            ),
            code="applicant_not_a_party",
        )
    mine = own[0]
    problems = _registry_problems(application, [mine], named=parties)
    if problems:
        raise DomainError(" ".join(problems), code="registry_check_failed")
    mine.user = user
    mine.confirmed_at = now
    ApplicationParty.objects.bulk_create(parties)
    record_event(application, Event.AWAITING_PARTIES, actor=user, note=_("Waiting for the other party to confirm."))
    for party in parties:
        if party is not mine:
            _tell_party(party, application, "party_confirmation_requested")
    return False


def _tell_party(party: ApplicationParty, application: Application, event: str, **context: Any) -> None:
    """Tell the person a party is (their account, when they have a verified one) about the application."""
    hashes = crypto.keyed_hashes(crypto.decrypt(party.id_number_encrypted), purpose=ID_NUMBER_HASH_PURPOSE)
    recipients = (
        [party.user_id]
        if party.user_id is not None
        else list(
            User.objects.filter(
                id_type=party.id_type, id_number_hash__in=hashes, real_name_level__gte=RealNameLevel.BASIC
            ).values_list("pk", flat=True)
        )
    )
    with override(None):
        service_name = application.service.name
    for user_id in recipients:
        notify(
            user_id,
            event,
            {
                "number": application.number or "",
                "service_name": service_name,
                "applicant_name": application.applicant_name,
                "url": reverse("approvals:confirmations"),
                **context,
            },
        )


# --- the other party --------------------------------------------------------------


def pending_for(user: User) -> QuerySet[ApplicationParty]:
    """The applications waiting for this user's confirmation (待我确认), matched by their verified identity."""
    hashes = _hashes_of(user)
    if not hashes:
        return ApplicationParty.objects.none()
    return (
        ApplicationParty.objects.filter(
            id_type=user.id_type,
            id_number_hash__in=hashes,
            confirmed_at__isnull=True,
            declined_at__isnull=True,
            application__status=Application.Status.SUBMITTED,
        )
        .exclude(application__applicant=user)
        .select_related("application__service", "application__department")
        .order_by("-application__submitted_at", "pk")
    )


def confirmed_by(user: User) -> QuerySet[ApplicationParty]:
    """The applications others made together with this user that they confirmed, newest first."""
    return (
        ApplicationParty.objects.filter(user=user, confirmed_at__isnull=False)
        .exclude(application__applicant=user)
        .select_related("application__service", "application__department")
        .order_by("-application__submitted_at", "pk")
    )


def application_for_party(user: User, *, number: str) -> Application:
    """An application this user confirmed as a party (not made by them); NotFound for anyone else."""
    party = confirmed_by(user).filter(application__number=number).first()
    if party is None:
        raise NotFound(_("No such application."))
    return party.application


def _locked_party(*, number: str, user: User) -> tuple[Application, ApplicationParty]:
    """The application with this number, locked, and the party this user is in it; 404 for anyone else."""
    application = (
        Application.objects.select_for_update(of=("self",)).select_related("service").filter(number=number).first()
    )
    hashes = _hashes_of(user)
    party = (
        application.parties.filter(id_type=user.id_type, id_number_hash__in=hashes).first()
        if application is not None and hashes
        else None
    )
    if application is None or party is None:
        raise NotFound(_("No such application."))
    if party.user_id not in (None, user.pk):
        raise NotFound(_("No such application."))
    return application, party


@transaction.atomic
def party_confirm(*, number: str, user: User) -> Application:
    """The user confirms, as the party named, the application made with them; idempotent.

    When they are the last, every party is checked against the population registry: the
    application is routed to the registrar, or ends (不予受理) with the reason told to all.
    """
    application, party = _locked_party(number=number, user=user)
    if party.confirmed_at is not None:
        return application
    if party.declined_at is not None:
        raise Conflict(_("You declined this application already."), code="party_declined")
    require_status(application, Application.Status.SUBMITTED)
    if user.real_name_level < needed_level(application.service):
        raise PermissionDenied(_("Confirming needs a verified real-name identity."), code="real_name_level_too_low")
    party.user = user
    party.confirmed_at = timezone.now()
    party.save(update_fields=["user", "confirmed_at"])
    record_event(application, Event.PARTY_CONFIRMED, actor=user, details={"role": party.role})
    parties = list(application.parties.order_by("pk"))
    if any(other.confirmed_at is None for other in parties):
        return application
    # The reason goes on record and into the 不予受理决定书: in the record's language, whoever confirmed last.
    with override("zh-hans"):
        problems = _registry_problems(application, parties)
    if problems:
        _refuse(application, parties, problems)
        return application
    outbox_add(application)
    notify_applicant(application, "party_confirmed", party_name=party.name)
    return application


@transaction.atomic
def party_decline(*, number: str, user: User) -> Application:
    """The user declines, as the party named, the application made with them: it ends (withdrawn); idempotent."""
    application, party = _locked_party(number=number, user=user)
    if party.declined_at is not None:
        return application
    if party.confirmed_at is not None:
        raise Conflict(_("You confirmed this application already."), code="party_confirmed")
    require_status(application, Application.Status.SUBMITTED)
    now = timezone.now()
    party.user = user
    party.declined_at = now
    party.save(update_fields=["user", "declined_at"])
    old = application.status
    application.status = Application.Status.WITHDRAWN
    application.withdrawn_at = now
    application.save(update_fields=["status", "withdrawn_at", "updated_at"])
    record_event(
        application,
        Event.PARTY_DECLINED,
        actor=user,
        old_status=old,
        new_status=application.status,
        details={"role": party.role},
    )
    notify_applicant(application, "party_declined", party_name=party.name)
    return application


# --- the registry check ------------------------------------------------------------


def _registry_problems(
    application: Application, parties: list[ApplicationParty], *, named: list[ApplicationParty] | None = None
) -> list[str]:
    """What the population registry says against these parties applying (empty: nothing); each read is logged.

    ``named`` are all the parties of the application (default: those checked), for checks between them.
    """
    check = (application.service.workflow or {}).get("party_check")
    if check not in (MARRIAGE, DIVORCE):
        return []
    with override(None):
        purpose = f"婚姻登记审查：{application.service.name}（{application.number}）"[:200]
    today = timezone.localdate()
    problems = []
    for party in parties:
        person = registries.person_lookup(
            id_type=party.id_type,
            id_number=crypto.decrypt(party.id_number_encrypted),
            actor=None,
            actor_label=REGISTRY_READER,
            purpose=purpose,
            department_id=application.department_id,
        )
        if check == MARRIAGE:
            problems.extend(_marriage_problems(party, person, today))
        else:
            problems.extend(_divorce_problems(party, person, named or parties))
    return problems


def _identity_problem(party: ApplicationParty, person: registries.PersonView | None) -> str:
    """Why the registry does not know this party by the name and number given; empty when it does."""
    if person is None or person.status != PersonStatus.NORMAL or not registries.names_match(party.name, person.name):
        return _("The name and identity number given for %(who)s do not match the population registry.") % {
            "who": role_label(party.role)
        }
    return ""


def _divorce_problems(
    party: ApplicationParty, person: registries.PersonView | None, parties: list[ApplicationParty]
) -> list[str]:
    """A party to a divorce must be registered as married to the other party named."""
    problem = _identity_problem(party, person)
    if problem or person is None:
        return [problem]
    others = {other.id_number_hash for other in parties if other is not party}
    if not person.is_married or person.spouse_id_hash not in others:
        return [
            _("The population registry does not record %(who)s as married to the other party.")
            % {"who": role_label(party.role)}
        ]
    return []


def _marriage_problems(
    party: ApplicationParty, person: registries.PersonView | None, today: datetime.date
) -> list[str]:
    who = role_label(party.role)
    problem = _identity_problem(party, person)
    if problem or person is None:
        return [problem]
    problems = []
    if person.gender != ROLE_GENDERS.get(party.role, person.gender):
        problems.append(_("The identity number given for %(who)s is not of that sex.") % {"who": who})
    minimum = MARRIAGE_AGES.get(party.role)
    if minimum is not None and person.age_on(today) < minimum:
        problems.append(
            _("%(who)s is under the legal age of marriage (%(age)s full years).") % {"who": who, "age": minimum}
        )
    if person.is_married:
        problems.append(
            _("The population registry records %(who)s as married: nobody with a spouse may marry again (no bigamy).")
            % {"who": who}
        )
    return problems


def _refuse(application: Application, parties: list[ApplicationParty], problems: list[str]) -> None:
    """The registry check failed: the application ends, not accepted, and every party is told why."""
    now = timezone.now()
    old = application.status
    reason = " ".join(problems)
    application.status = Application.Status.NOT_ACCEPTED
    application.outcome = Outcome.NOT_ACCEPTED
    application.decided_at = now
    application.completed_at = now
    application.save(update_fields=["status", "outcome", "decided_at", "completed_at", "updated_at"])
    record_event(
        application,
        Event.DECIDED,
        actor=None,
        actor_label=REGISTRY_READER,
        department_id=application.department_id,
        old_status=old,
        new_status=application.status,
        note=reason,
        details={"outcome": Outcome.NOT_ACCEPTED, "registry_check": True},
    )
    notify_applicant(application, "party_check_failed", reason=reason)
    for party in parties:
        if party.user_id is not None and party.user_id != application.applicant_id:
            _tell_party(party, application, "party_check_failed", reason=reason)


def is_waiting(application: Application) -> bool:
    """Whether the application waits for a party's confirmation (it is not routed until none does)."""
    return application.parties.filter(confirmed_at__isnull=True).exists()


def parties_of(application: Application) -> list[ApplicationParty]:
    """The parties of an application, in the order the form names them (empty for one applicant)."""
    return list(application.parties.order_by("pk"))


# What a party's answer led to, as the confirmations page and the API say it.
OUTCOME_DECLINED = "declined"
OUTCOME_REFUSED = "refused"  # the registry check failed: 不予受理, with the reason
OUTCOME_ROUTED = "routed"  # everyone confirmed, the checks passed: on its way to the registrar
OUTCOME_WAITING = "waiting"  # confirmed; another party has still to answer


def answer_outcome(application: Application) -> tuple[str, str]:
    """What the last party's answer led to, and the reason where the registry check refused it."""
    if application.status == Application.Status.WITHDRAWN:
        return OUTCOME_DECLINED, ""
    if application.status == Application.Status.NOT_ACCEPTED:
        event = application.events.filter(details__registry_check=True).order_by("-pk").first()
        return OUTCOME_REFUSED, event.note if event else ""
    if application.outbox.exists() or application.tasks.exists():
        return OUTCOME_ROUTED, ""
    return OUTCOME_WAITING, ""
