"""Once-only (最多跑一次): fill an application form from what the base registries already know.

A field declares where its value comes from in the form's UI hints, e.g.
``"source": "registry:population.name"``. Each registry is read at most once per
draft, through ``datahub.registries`` (which logs the read with its purpose).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accounts.models import Enterprise, User
from approvals import forms_engine
from approvals.materials import materials_of, registry_of
from datahub import registries
from datahub.identity import Gender
from datahub.registries import LegalPersonView, PersonView
from services.models import ServiceItem

POPULATION = "population"
LEGAL_PERSON = "legal_person"
# Not a registry: what the applicant proved to the portal itself (``"source": "account:phone"``, the SMS-proven number).
ACCOUNT = "account"
_GENDERS = {Gender.MALE: "male", Gender.FEMALE: "female"}


@dataclass
class Prefill:
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # field code → registry (or ACCOUNT)
    registries_found: set[str] = field(default_factory=set)


def _field_sources(item: ServiceItem, kind: str) -> dict[str, str]:
    """Field code → what follows ``<kind>:`` in the field's source, for the fields of the form that name one."""
    prefix = f"{kind}:"
    result = {}
    for code, ui in (item.form_ui.get("fields") or {}).items():
        source = str((ui or {}).get("source", ""))
        if source.startswith(prefix):
            result[code] = source.removeprefix(prefix)
    return result


def _sources(item: ServiceItem) -> dict[str, tuple[str, str]]:
    """Field code → (registry, attribute) for the fields of the form that name a registry source."""
    return {
        code: (registry, attribute)
        for code, named in _field_sources(item, "registry").items()
        for registry, _dot, attribute in [named.partition(".")]
        if attribute
    }


def _account_value(actor: User, attribute: str) -> str | None:
    """The applicant's phone number, only once proven by an SMS code (a typed, unproven one is not offered)."""
    if attribute == "phone" and actor.phone_verified and actor.phone:
        return str(actor.phone)
    return None


def _person_value(person: PersonView, attribute: str) -> Any:
    # "male.name", "female.id_number": the person's own, where the form names them by their sex (婚姻登记).
    sex, _dot, own_attribute = attribute.partition(".")
    if own_attribute and sex in _GENDERS.values():
        return _person_value(person, own_attribute) if _GENDERS.get(Gender(person.gender)) == sex else None
    if attribute == "name":
        return person.name
    if attribute == "id_number":
        return person.id_number
    if attribute == "gender":
        return _GENDERS.get(Gender(person.gender)) if person.gender in Gender.values else None
    if attribute == "birth_date":
        return person.birth_date.isoformat()
    if attribute in {"household_address", "address"}:
        return {"region": person.household_region_code, "detail": person.address}
    return None


def _legal_person_value(legal_person: LegalPersonView, attribute: str) -> Any:
    if attribute == "name":
        return legal_person.name
    if attribute == "uscc":
        return legal_person.uscc
    if attribute == "legal_representative":
        return legal_person.legal_representative_name
    if attribute == "address":
        return {"region": legal_person.registered_region_code, "detail": legal_person.address}
    return None


def prefill(
    *,
    item: ServiceItem,
    actor: User,
    id_type: str,
    id_number: str,
    acting_for: Enterprise | None,
    department_id: int | None = None,
) -> Prefill:
    """The answers the registries give for this form, for the person with this document (and their enterprise).

    ``actor`` reads: the applicant themselves online, or the clerk at the counter (for their department).
    """
    sources = _sources(item)
    needed = {registry for registry, _attribute in sources.values()}
    needed |= {registry_of(entry) for entry in materials_of(item)} - {""}
    purpose = f"预填申请表：{item.name}（{item.implementation_code}）"[:200]
    result = Prefill()
    person: PersonView | None = None
    legal_person: LegalPersonView | None = None
    if POPULATION in needed and id_type and id_number:
        person = registries.person_lookup(
            id_type=id_type, id_number=id_number, actor=actor, purpose=purpose, department_id=department_id
        )
        if person is not None:
            result.registries_found.add(POPULATION)
    if LEGAL_PERSON in needed and acting_for is not None:
        legal_person = registries.legal_person_lookup(
            uscc=acting_for.uscc, actor=actor, purpose=purpose, department_id=department_id
        )
        if legal_person is not None:
            result.registries_found.add(LEGAL_PERSON)
    for code, (registry, attribute) in sources.items():
        value: Any = None
        if registry == POPULATION and person is not None:
            value = _person_value(person, attribute)
        elif registry == LEGAL_PERSON and legal_person is not None:
            value = _legal_person_value(legal_person, attribute)
        if value in (None, ""):
            continue
        # A registry value the form would refuse is left for the applicant to give.
        if forms_engine.validate(item.form_schema, item.form_ui, {code: value}, only=[code]):
            continue
        result.values[code] = value
        result.sources[code] = registry
    # At the counter the actor is the clerk: their own account says nothing about the applicant.
    if department_id is None:
        for code, attribute in _field_sources(item, ACCOUNT).items():
            value = _account_value(actor, attribute)
            if value and not forms_engine.validate(item.form_schema, item.form_ui, {code: value}, only=[code]):
                result.values[code] = value
                result.sources[code] = ACCOUNT
    return result
