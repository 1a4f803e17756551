"""The only way to read the base registries: each read says why, and is logged as it happens.

Two methods of sharing (共享方式), as the national data-sharing rules name them:

- 比对验证 (verify): the caller learns only yes or no — ``person_verify``,
  ``legal_person_is_represented_by``;
- 查询引用 (lookup): the caller gets the record's data, to prefill a form —
  ``person_lookup``, ``household_members``, ``legal_person_lookup``.

Every call writes exactly one ``DataAccessLog`` row in the same transaction as
the read: who (a user, or a label such as a task's name when no user acts),
for which department, which record (masked: never a clear identity number),
for what purpose, and with what result. A call without a purpose is refused.
Which department may read what (data grants) comes later; ``department_id``
is logged now so that the log already says it.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from core import crypto
from core.errors import DomainError
from datahub.identity import IdentityType, mask_id, normalize_identity_number, normalize_phone
from datahub.models import (
    ID_NUMBER_HASH_PURPOSE,
    MARRIED_STATUSES,
    PHONE_HASH_PURPOSE,
    AccessMethod,
    AccessResource,
    AccessResult,
    DataAccessLog,
    LegalPersonRecord,
    MaritalStatus,
    PersonRecord,
    PersonStatus,
)

ADULT_AGE = 18
PURPOSE_MAX_LENGTH = DataAccessLog._meta.get_field("purpose").max_length or 200
ACTOR_LABEL_MAX_LENGTH = DataAccessLog._meta.get_field("actor_label").max_length or 100


@dataclass(frozen=True)
class PersonView:
    """What a form may prefill about a person; the identity number in clear, for its owner or the handling staff."""

    name: str
    id_type: str
    id_number: str
    id_number_masked: str
    gender: str
    birth_date: datetime.date
    ethnicity: str
    household_number: str
    relation_to_head: str
    household_region_code: str
    address: str
    phone_masked: str
    status: str
    marital_status: str = MaritalStatus.UNSTATED
    spouse_id_hash: str = ""

    @property
    def is_married(self) -> bool:
        """Whether the registry records a spouse now (已婚, 初婚, 再婚 or 复婚)."""
        return self.marital_status in MARRIED_STATUSES

    def age_on(self, day: datetime.date) -> int:
        """Full years of age on ``day``."""
        had_birthday = (day.month, day.day) >= (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - (0 if had_birthday else 1)

    def is_minor_on(self, day: datetime.date) -> bool:
        return self.age_on(day) < ADULT_AGE


@dataclass(frozen=True)
class LegalPersonView:
    """What a form may prefill about a legal person (the representative's number stays masked)."""

    uscc: str
    name: str
    kind: str
    legal_representative_name: str
    legal_representative_id_type: str
    legal_representative_id_masked: str
    registered_region_code: str
    address: str
    established_on: datetime.date
    registered_capital_fen: int | None
    status: str
    registration_authority: str


@dataclass(frozen=True)
class _Reader:
    actor_id: int | None
    actor_label: str
    department_id: int | None
    purpose: str


def _reader(*, actor: AbstractBaseUser | None, actor_label: str, purpose: str, department_id: int | None) -> _Reader:
    purpose = (purpose or "").strip()
    if not purpose:
        raise DomainError(_("Every read of a base registry needs a purpose."), code="purpose_required")
    if len(purpose) > PURPOSE_MAX_LENGTH:
        raise DomainError(
            _("The purpose of a registry read may have at most %(count)d characters.") % {"count": PURPOSE_MAX_LENGTH},
            code="purpose_too_long",
        )
    actor_id = actor.pk if actor is not None else None
    actor_label = (actor_label or "").strip()[:ACTOR_LABEL_MAX_LENGTH]
    if actor_id is None and not actor_label:
        raise DomainError(
            _("A registry read without a user must say who reads (an actor label)."), code="actor_required"
        )
    return _Reader(actor_id=actor_id, actor_label=actor_label, department_id=department_id, purpose=purpose)


def _log(
    reader: _Reader,
    *,
    resource: AccessResource,
    method: AccessMethod,
    record_key: str,
    result: AccessResult,
    subject_hash: str = "",
) -> None:
    DataAccessLog.objects.create(
        actor_id=reader.actor_id,
        actor_label=reader.actor_label,
        department_id=reader.department_id,
        resource=resource,
        method=method,
        record_key=record_key[:40],
        subject_hash=subject_hash,
        purpose=reader.purpose,
        result=result,
    )


def _document(id_type: str, id_number: str) -> tuple[str, str]:
    """The document type checked and the number normalised, as the registry stores them."""
    if id_type not in IdentityType.values:
        raise DomainError(_("Unknown identity document type."), code="id_type")
    return id_type, normalize_identity_number(id_number)


def _find_person(id_type: str, number: str) -> PersonRecord | None:
    hashes = crypto.keyed_hashes(number, purpose=ID_NUMBER_HASH_PURPOSE)
    return PersonRecord.objects.filter(id_type=id_type, id_number_hash__in=hashes).first()


def _person_view(record: PersonRecord) -> PersonView:
    return PersonView(
        name=record.name,
        id_type=record.id_type,
        id_number=crypto.decrypt(record.id_number_encrypted),
        id_number_masked=record.id_number_masked,
        gender=record.gender,
        birth_date=record.birth_date,
        ethnicity=record.ethnicity,
        household_number=record.household_number,
        relation_to_head=record.relation_to_head,
        household_region_code=record.household_region_code,
        address=record.address,
        phone_masked=record.phone_masked,
        status=record.status,
        marital_status=record.marital_status,
        spouse_id_hash=record.spouse_id_hash,
    )


def names_match(typed: str, registered: str) -> bool:
    """Whether a name as someone typed it is the name the registry holds (width, spaces and middle dots aside)."""
    return _comparable_name(typed) == _comparable_name(registered)


def _comparable_name(name: str) -> str:
    """A name as typed and as registered compare equal: half-width, no spaces, one kind of middle dot."""
    text = unicodedata.normalize("NFKC", name or "")
    text = re.sub(r"\s", "", text)
    return re.sub(r"[·•・‧.．]", "·", text)


@transaction.atomic
def person_verify(
    *,
    name: str,
    id_type: str,
    id_number: str,
    phone: str | None = None,
    actor: AbstractBaseUser | None,
    purpose: str,
    department_id: int | None = None,
    actor_label: str = "",
) -> bool:
    """比对验证: whether a registered (正常) person has this document, this name and, when given, this phone.

    Says only yes or no; not whether the number exists, nor which detail differed.
    """
    reader = _reader(actor=actor, actor_label=actor_label, purpose=purpose, department_id=department_id)
    id_type, number = _document(id_type, id_number)
    record = _find_person(id_type, number)
    matches = (
        record is not None
        and record.status == PersonStatus.NORMAL
        and _comparable_name(record.name) == _comparable_name(name)
    )
    if matches and phone:
        phone_hashes = crypto.keyed_hashes(normalize_phone(phone), purpose=PHONE_HASH_PURPOSE)
        matches = record is not None and record.phone_hash in phone_hashes
    _log(
        reader,
        resource=AccessResource.POPULATION,
        method=AccessMethod.VERIFY,
        record_key=mask_id(number),
        subject_hash=crypto.keyed_hash(number, purpose=ID_NUMBER_HASH_PURPOSE),
        result=AccessResult.MATCH if matches else AccessResult.MISMATCH,
    )
    return matches


@transaction.atomic
def person_lookup(
    *,
    id_type: str,
    id_number: str,
    actor: AbstractBaseUser | None,
    purpose: str,
    department_id: int | None = None,
    actor_label: str = "",
) -> PersonView | None:
    """查询引用: the registry's record of the person with this document (whatever their status), or None."""
    reader = _reader(actor=actor, actor_label=actor_label, purpose=purpose, department_id=department_id)
    id_type, number = _document(id_type, id_number)
    record = _find_person(id_type, number)
    _log(
        reader,
        resource=AccessResource.POPULATION,
        method=AccessMethod.LOOKUP,
        record_key=mask_id(number),
        subject_hash=crypto.keyed_hash(number, purpose=ID_NUMBER_HASH_PURPOSE),
        result=AccessResult.FOUND if record is not None else AccessResult.NOT_FOUND,
    )
    return _person_view(record) if record is not None else None


@transaction.atomic
def household_members(
    *,
    id_type: str,
    id_number: str,
    actor: AbstractBaseUser | None,
    purpose: str,
    department_id: int | None = None,
    actor_label: str = "",
) -> list[PersonView]:
    """查询引用: the registered (正常) members of the household of the person with this document, them included.

    Head first, then spouse, children and parents, older before younger; empty
    when the person is not in the registry. A parent acting for a minor child
    finds the child here.
    """
    reader = _reader(actor=actor, actor_label=actor_label, purpose=purpose, department_id=department_id)
    id_type, number = _document(id_type, id_number)
    record = _find_person(id_type, number)
    members: list[PersonView] = []
    if record is not None:
        members = [
            _person_view(member)
            for member in PersonRecord.objects.filter(
                household_number=record.household_number, status=PersonStatus.NORMAL
            ).order_by("relation_to_head", "birth_date", "pk")
        ]
    _log(
        reader,
        resource=AccessResource.POPULATION,
        method=AccessMethod.LOOKUP,
        record_key=mask_id(number),
        subject_hash=crypto.keyed_hash(number, purpose=ID_NUMBER_HASH_PURPOSE),
        result=AccessResult.FOUND if record is not None else AccessResult.NOT_FOUND,
    )
    return members


def _normalize_uscc(uscc: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", uscc or "")).upper()


@transaction.atomic
def legal_person_lookup(
    *,
    uscc: str,
    actor: AbstractBaseUser | None,
    purpose: str,
    department_id: int | None = None,
    actor_label: str = "",
) -> LegalPersonView | None:
    """查询引用: the registry's record of the legal person with this credit code (whatever its status), or None."""
    reader = _reader(actor=actor, actor_label=actor_label, purpose=purpose, department_id=department_id)
    uscc = _normalize_uscc(uscc)
    record = LegalPersonRecord.objects.filter(uscc=uscc).first()
    _log(
        reader,
        resource=AccessResource.LEGAL_PERSON,
        method=AccessMethod.LOOKUP,
        record_key=uscc,
        result=AccessResult.FOUND if record is not None else AccessResult.NOT_FOUND,
    )
    if record is None:
        return None
    return LegalPersonView(
        uscc=record.uscc,
        name=record.name,
        kind=record.kind,
        legal_representative_name=record.legal_representative_name,
        legal_representative_id_type=record.legal_representative_id_type,
        legal_representative_id_masked=record.legal_representative_id_masked,
        registered_region_code=record.registered_region_code,
        address=record.address,
        established_on=record.established_on,
        registered_capital_fen=record.registered_capital_fen,
        status=record.status,
        registration_authority=record.registration_authority,
    )


@transaction.atomic
def legal_person_is_represented_by(
    *,
    uscc: str,
    id_type: str,
    id_number: str,
    actor: AbstractBaseUser | None,
    purpose: str,
    department_id: int | None = None,
    actor_label: str = "",
) -> bool:
    """比对验证: whether the person with this document is the registered legal representative.

    Whatever the legal person's status: a revoked enterprise still acts through its
    representative to wind up; callers that need an active one look it up.
    """
    reader = _reader(actor=actor, actor_label=actor_label, purpose=purpose, department_id=department_id)
    uscc = _normalize_uscc(uscc)
    id_type, number = _document(id_type, id_number)
    hashes = crypto.keyed_hashes(number, purpose=ID_NUMBER_HASH_PURPOSE)
    matches = LegalPersonRecord.objects.filter(
        uscc=uscc, legal_representative_id_type=id_type, legal_representative_id_hash__in=hashes
    ).exists()
    _log(
        reader,
        resource=AccessResource.LEGAL_PERSON,
        method=AccessMethod.VERIFY,
        record_key=uscc,
        subject_hash=hashes[0],
        result=AccessResult.MATCH if matches else AccessResult.MISMATCH,
    )
    return matches
