"""Load the demo base registries: about a thousand Zhejiang residents in households, and their legal persons.

``seed_registries`` is idempotent: the records are generated the same way on every
run (a fixed random seed and a fixed reference date), and only those missing are
created — persons keyed by document, legal persons by credit code — so running
it twice changes nothing, and a record changed since is left as it is.

``person_record`` and ``legal_person_record`` turn a spec into an unsaved row
(number encrypted, hashed and masked); tests build their records with them too.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, replace

from django.db import transaction

from core import crypto
from datahub.identity import (
    USCC_CHARSET,
    Gender,
    document_birth_date_and_gender,
    mask_id,
    mask_phone,
    normalize_identity_number,
    normalize_phone,
    resident_id_check_character,
    uscc_check_character,
    validate_identity_number,
    validate_uscc,
)
from datahub.models import (
    ID_NUMBER_HASH_PURPOSE,
    PHONE_HASH_PURPOSE,
    Ethnicity,
    HouseholdRelation,
    LegalPersonKind,
    LegalPersonRecord,
    LegalPersonStatus,
    MaritalStatus,
    PersonRecord,
    PersonStatus,
)
from demo.registry_data import (
    ASSOCIATIONS,
    BRANDS,
    BUILDINGS,
    COUNTIES,
    FEMALE_GIVEN,
    FEMALE_GIVEN_RECENT,
    FIXED_LEGAL_PERSONS,
    FIXED_PERSONS,
    INDUSTRIES,
    INSTITUTIONS,
    MALE_GIVEN,
    MALE_GIVEN_RECENT,
    ORDINALS,
    OTHER_ETHNICITIES,
    PHONE_PREFIXES,
    SHOPS,
    SURNAMES,
    LegalPersonSpec,
    PersonSpec,
)

RANDOM_SEED = 20260101
# Ages and dates are counted from this day, so that every run generates the same people.
REFERENCE_DATE = datetime.date(2026, 1, 1)
GENERATED_PERSONS = 1000
GENERATED_LEGAL_PERSONS = (
    (LegalPersonKind.ENTERPRISE, 200),
    (LegalPersonKind.INDIVIDUAL_BUSINESS, 20),
    (LegalPersonKind.PUBLIC_INSTITUTION, 10),
    (LegalPersonKind.SOCIAL_ORGANISATION, 10),
)
# Generated household numbers stay below this serial; the fixed households use 9xxxx.
_FIXED_HOUSEHOLD_SERIAL = 90000
# USCCs with an organisation code beginning "MA" were issued from this day on.
_USCC_MA_SINCE = datetime.date(2015, 10, 1)


class DemoRegistryError(Exception):
    """The demo data contradicts itself; the message names what is wrong."""


def seed_registries() -> dict[str, int]:
    """Create the demo registry records that are missing and return how many persons and legal persons exist."""
    persons, legal_persons = generate_registries()
    with transaction.atomic():
        known = set(PersonRecord.objects.values_list("id_type", "id_number_hash"))
        PersonRecord.objects.bulk_create(
            (
                person_record(spec)
                for spec in persons
                if not any(
                    (spec.id_type, hashed) in known
                    for hashed in crypto.keyed_hashes(spec.id_number, purpose=ID_NUMBER_HASH_PURPOSE)
                )
            ),
            batch_size=500,
        )
        _fill_marital_statuses(persons)
        known_usccs = set(LegalPersonRecord.objects.values_list("uscc", flat=True))
        LegalPersonRecord.objects.bulk_create(
            (legal_person_record(spec) for spec in legal_persons if spec.uscc not in known_usccs),
            batch_size=500,
        )
    return registry_counts()


def _fill_marital_statuses(persons: list[PersonSpec]) -> None:
    """Records made before the registry knew marital status (未说明, the migration's default) get the demo's."""
    unstated = dict(
        PersonRecord.objects.filter(marital_status=MaritalStatus.UNSTATED).values_list("id_number_hash", "pk")
    )
    if not unstated:
        return
    changed = []
    for spec in persons:
        if spec.marital_status == MaritalStatus.UNSTATED:
            continue
        for hashed in crypto.keyed_hashes(spec.id_number, purpose=ID_NUMBER_HASH_PURPOSE):
            if hashed in unstated:
                record = person_record(spec)
                record.pk = unstated[hashed]
                changed.append(record)
                break
    PersonRecord.objects.bulk_update(changed, ["marital_status", "spouse_id_hash"], batch_size=500)


def registry_counts() -> dict[str, int]:
    return {"persons": PersonRecord.objects.count(), "legal_persons": LegalPersonRecord.objects.count()}


def person_record(spec: PersonSpec) -> PersonRecord:
    """An unsaved registry row for ``spec``: the number checked, encrypted, hashed and masked."""
    number = normalize_identity_number(spec.id_number)
    validate_identity_number(spec.id_type, number, today=REFERENCE_DATE)
    birth_date, gender = document_birth_date_and_gender(spec.id_type, number)
    if birth_date is None or gender is None:
        raise DemoRegistryError(f"demo person {spec.name}: no birth date or gender in the number")
    phone = normalize_phone(spec.phone)
    return PersonRecord(
        name=spec.name,
        id_type=spec.id_type,
        id_number_hash=crypto.keyed_hash(number, purpose=ID_NUMBER_HASH_PURPOSE),
        id_number_encrypted=crypto.encrypt(number),
        id_number_masked=mask_id(number),
        gender=gender,
        birth_date=birth_date,
        ethnicity=spec.ethnicity,
        household_number=spec.household_number,
        relation_to_head=spec.relation,
        household_region_code=spec.region_code,
        address=spec.address,
        phone_hash=crypto.keyed_hash(phone, purpose=PHONE_HASH_PURPOSE) if phone else "",
        phone_masked=mask_phone(phone) if phone else "",
        status=spec.status,
        marital_status=spec.marital_status,
        spouse_id_hash=(
            crypto.keyed_hash(normalize_identity_number(spec.spouse_id_number), purpose=ID_NUMBER_HASH_PURPOSE)
            if spec.spouse_id_number
            else ""
        ),
    )


def legal_person_record(spec: LegalPersonSpec) -> LegalPersonRecord:
    """An unsaved registry row for ``spec``, its representative's number hashed and masked."""
    validate_uscc(spec.uscc)
    representative = spec.representative
    number = normalize_identity_number(representative.id_number)
    return LegalPersonRecord(
        uscc=spec.uscc,
        name=spec.name,
        kind=spec.kind,
        legal_representative_name=representative.name,
        legal_representative_id_type=representative.id_type,
        legal_representative_id_hash=crypto.keyed_hash(number, purpose=ID_NUMBER_HASH_PURPOSE),
        legal_representative_id_masked=mask_id(number),
        registered_region_code=spec.region_code,
        address=spec.address,
        established_on=spec.established_on,
        registered_capital_fen=spec.registered_capital_fen,
        status=spec.status,
        registration_authority=spec.registration_authority,
    )


# --- Generation ---


@dataclass(frozen=True)
class _County:
    code: str
    city: str
    name: str
    streets: tuple[str, ...]
    compounds: tuple[str, ...]

    @property
    def region_code(self) -> str:
        return self.code.ljust(12, "0")

    @property
    def full_name(self) -> str:
        """杭州市西湖区, but 义乌市 for a county-level city."""
        return self.name if self.name.endswith("市") else f"{self.city}{self.name}"

    @property
    def trade_place(self) -> str:
        """The place name that begins a company's name: 杭州, or 义乌 for a county-level city."""
        return (self.name if self.name.endswith("市") else self.city)[:-1]


_COUNTIES = tuple(_County(*row) for row in COUNTIES)


class _Generator:
    """Draws people, households and legal persons from one seeded random stream, never the same number twice."""

    def __init__(self) -> None:
        self.random = random.Random(RANDOM_SEED)  # noqa: S311  # demo data, not secrets
        self.id_numbers = {spec.id_number for spec in FIXED_PERSONS}
        self.phones = {spec.phone for spec in FIXED_PERSONS if spec.phone}
        self.usccs = {spec.uscc for spec in FIXED_LEGAL_PERSONS}
        self.names = {spec.name for spec in FIXED_LEGAL_PERSONS}
        self.household_serials: dict[str, int] = {}

    # People

    def birth_date(self, age: int) -> datetime.date:
        """A birth date of someone ``age`` full years old on the reference date."""
        latest = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - age)
        return latest - datetime.timedelta(days=self.random.randint(0, 364))

    def id_number(self, county: _County, birth_date: datetime.date, gender: Gender) -> str:
        # Most were born where they live; some elsewhere in the province.
        region = county.code if self.random.random() < 0.8 else self.random.choice(_COUNTIES).code
        while True:
            serial = self.random.randint(0, 499) * 2 + (1 if gender == Gender.MALE else 0)
            first_seventeen = f"{region}{birth_date:%Y%m%d}{serial:03d}"
            number = first_seventeen + resident_id_check_character(first_seventeen)
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return number

    def phone(self) -> str:
        while True:
            phone = self.random.choice(PHONE_PREFIXES) + f"{self.random.randint(0, 99_999_999):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    def given_name(self, gender: Gender, birth_date: datetime.date) -> str:
        if birth_date.year >= 2010 and self.random.random() < 0.7:
            return self.random.choice(MALE_GIVEN_RECENT if gender == Gender.MALE else FEMALE_GIVEN_RECENT)
        pool = MALE_GIVEN if gender == Gender.MALE else FEMALE_GIVEN
        length = 2 if self.random.random() < 0.75 else 1
        return "".join(self.random.choice(pool) for _ in range(length))

    def household_number(self, county: _County) -> str:
        serial = self.household_serials.get(county.code, 0) + 1
        if serial >= _FIXED_HOUSEHOLD_SERIAL:
            raise DemoRegistryError(f"too many demo households in {county.name}")
        self.household_serials[county.code] = serial
        return f"{county.code[2:]}{serial:05d}"

    def address(self, county: _County) -> str:
        return (
            f"浙江省{county.full_name}{self.random.choice(county.streets)}{self.random.randint(1, 399)}号"
            f"{self.random.choice(county.compounds)}{self.random.randint(1, 30)}幢"
            f"{self.random.randint(1, 4)}单元{self.random.randint(1, 18)}{self.random.randint(1, 4):02d}室"
        )

    def household(self) -> list[PersonSpec]:
        """A household of one to five: a head, usually a spouse, children, and in the largest a parent of the head."""
        county = self.random.choice(_COUNTIES)
        size = self.random.choices((1, 2, 3, 4, 5), weights=(15, 25, 30, 20, 10))[0]
        number = self.household_number(county)
        address = self.address(county)
        surname = self.random.choice(SURNAMES)
        head_gender = self.random.choice((Gender.MALE, Gender.FEMALE))
        head_age = self.random.randint(20, 85) if size == 1 else self.random.randint(26, 62)
        members = [(surname, head_gender, head_age, HouseholdRelation.HEAD)]
        father_surname = surname
        has_spouse = size >= 2 and self.random.random() < 0.85
        if has_spouse:
            spouse_gender = Gender.FEMALE if head_gender == Gender.MALE else Gender.MALE
            spouse_surname = self.random.choice(SURNAMES)
            if spouse_gender == Gender.MALE:
                father_surname = spouse_surname
            spouse_age = max(20, head_age + self.random.randint(-5, 5))
            members.append((spouse_surname, spouse_gender, spouse_age, HouseholdRelation.SPOUSE))
        children = size - len(members) - (1 if size == 5 else 0)
        youngest_parent = min(age for _, _, age, _ in members)
        for _ in range(children):
            child_age = max(0, youngest_parent - self.random.randint(22, 38))
            child_gender = self.random.choice((Gender.MALE, Gender.FEMALE))
            members.append((father_surname, child_gender, child_age, HouseholdRelation.CHILD))
        if size == 5:
            parent_gender = self.random.choice((Gender.MALE, Gender.FEMALE))
            parent_surname = surname if parent_gender == Gender.MALE else self.random.choice(SURNAMES)
            parent_age = min(95, head_age + self.random.randint(22, 34))
            members.append((parent_surname, parent_gender, parent_age, HouseholdRelation.PARENT))
        ethnicity = Ethnicity.HAN if self.random.random() < 0.96 else self.random.choice(OTHER_ETHNICITIES)
        return with_marital_status(
            [
                self.person(
                    county=county,
                    surname=member_surname,
                    gender=gender,
                    age=age,
                    relation=relation,
                    household_number=number,
                    address=address,
                    ethnicity=ethnicity,
                )
                for member_surname, gender, age, relation in members
            ]
        )

    def person(
        self,
        *,
        county: _County,
        surname: str,
        gender: Gender,
        age: int,
        relation: HouseholdRelation,
        household_number: str,
        address: str,
        ethnicity: Ethnicity,
    ) -> PersonSpec:
        birth_date = self.birth_date(age)
        status = PersonStatus.NORMAL
        if relation != HouseholdRelation.HEAD:
            # The head is always registered; now and then another member has died or moved away.
            if age >= 75 and self.random.random() < 0.15:
                status = PersonStatus.DECEASED
            elif age >= 18 and self.random.random() < 0.03:
                status = PersonStatus.MOVED_OUT
        return PersonSpec(
            name=surname + self.given_name(gender, birth_date),
            id_number=self.id_number(county, birth_date, gender),
            household_number=household_number,
            relation=relation,
            region_code=county.region_code,
            address=address,
            phone=self.phone() if age >= 16 and status == PersonStatus.NORMAL and self.random.random() < 0.9 else "",
            ethnicity=ethnicity,
            status=status,
        )

    # Legal persons

    def organisation_code(self, established_on: datetime.date, kind: LegalPersonKind) -> str:
        """A 9-character 组织机构代码 (GB 11714): 8 characters and their check character."""
        if kind in (LegalPersonKind.ENTERPRISE, LegalPersonKind.INDIVIDUAL_BUSINESS) and (
            established_on >= _USCC_MA_SINCE
        ):
            body = "MA2" + "".join(self.random.choice(USCC_CHARSET) for _ in range(5))
        else:
            first = {LegalPersonKind.PUBLIC_INSTITUTION: "4", LegalPersonKind.SOCIAL_ORGANISATION: "5"}.get(kind, "1")
            body = first + f"{self.random.randint(0, 9_999_999):07d}"
        return body + organisation_code_check_character(body)

    def uscc(self, kind: LegalPersonKind, county: _County, established_on: datetime.date) -> str:
        while True:
            first_seventeen = f"{kind}{county.code}{self.organisation_code(established_on, kind)}"
            uscc = first_seventeen + uscc_check_character(first_seventeen)
            if uscc not in self.usccs:
                self.usccs.add(uscc)
                return uscc

    def legal_person_name(self, kind: LegalPersonKind, county: _County) -> str:
        while True:
            if kind == LegalPersonKind.ENTERPRISE:
                name = f"{county.trade_place}{self.random.choice(BRANDS)}{self.random.choice(INDUSTRIES)}有限公司"
            elif kind == LegalPersonKind.INDIVIDUAL_BUSINESS:
                name = f"{county.full_name}{self.random.choice(BRANDS)}{self.random.choice(SHOPS)}"
            elif kind == LegalPersonKind.PUBLIC_INSTITUTION:
                name = f"{county.full_name}{self.random.choice(ORDINALS)}{self.random.choice(INSTITUTIONS)}"
            else:
                name = f"{county.full_name}{self.random.choice(ASSOCIATIONS)}"
            if name not in self.names:
                self.names.add(name)
                return name

    def legal_person(self, kind: LegalPersonKind, representative: PersonSpec) -> LegalPersonSpec:
        county = self.random.choice(_COUNTIES)
        established_on = datetime.date(1998, 1, 1) + datetime.timedelta(days=self.random.randint(0, 28 * 365))
        authority = {
            LegalPersonKind.PUBLIC_INSTITUTION: "事业单位登记管理局",
            LegalPersonKind.SOCIAL_ORGANISATION: "民政局",
        }.get(kind, "市场监督管理局")
        capital = None
        if kind == LegalPersonKind.ENTERPRISE:
            capital = self.random.choice((10, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000)) * 10_000 * 100
        roll = self.random.random()
        status = LegalPersonStatus.ACTIVE
        if roll < 0.05:
            status = LegalPersonStatus.DEREGISTERED
        elif roll < 0.08:
            status = LegalPersonStatus.REVOKED
        elif roll < 0.10:
            status = LegalPersonStatus.MOVED_OUT
        return LegalPersonSpec(
            uscc=self.uscc(kind, county, established_on),
            name=self.legal_person_name(kind, county),
            kind=kind,
            representative=representative,
            region_code=county.region_code,
            address=(
                f"浙江省{county.full_name}{self.random.choice(county.streets)}{self.random.randint(1, 599)}号"
                f"{self.random.choice(BUILDINGS)}{self.random.randint(1, 20)}层{self.random.randint(1, 30):02d}室"
            ),
            established_on=established_on,
            registration_authority=f"{county.full_name}{authority}",
            registered_capital_fen=capital,
            status=status,
        )


def with_marital_status(household: list[PersonSpec]) -> list[PersonSpec]:
    """The household's members with a marital status (GB/T 2261.2), the head and spouse married to each other.

    Drawn from a random stream of each person's own (seeded by their number), so that the people
    generated before stay the same.
    """
    spouses = [spec for spec in household if spec.relation == HouseholdRelation.SPOUSE]
    head = household[0]
    result = []
    for spec in household:
        chance = random.Random(spec.id_number).random()  # noqa: S311  # demo data, not secrets
        age = _age(spec)
        spouse_number = ""
        if spec.relation == HouseholdRelation.HEAD and spouses:
            status, spouse_number = MaritalStatus.FIRST_MARRIAGE, spouses[0].id_number
        elif spec.relation == HouseholdRelation.SPOUSE:
            status, spouse_number = MaritalStatus.FIRST_MARRIAGE, head.id_number
        elif spec.relation == HouseholdRelation.PARENT:
            status = MaritalStatus.WIDOWED
        elif age < 22 or chance < 0.6:
            status = MaritalStatus.UNMARRIED
        else:
            status = MaritalStatus.DIVORCED if chance < 0.85 or age < 55 else MaritalStatus.WIDOWED
        if spouse_number and chance < 0.1:
            status = MaritalStatus.REMARRIED
        result.append(replace(spec, marital_status=status, spouse_id_number=spouse_number))
    return result


def _age(spec: PersonSpec) -> int:
    birth_date = document_birth_date_and_gender(spec.id_type, spec.id_number)[0] or REFERENCE_DATE
    return (
        REFERENCE_DATE.year
        - birth_date.year
        - ((REFERENCE_DATE.month, REFERENCE_DATE.day) < (birth_date.month, birth_date.day))
    )


def organisation_code_check_character(body: str) -> str:
    """The 9th character of a 组织机构代码 (GB 11714-1997) whose first 8 are given."""
    total = sum(
        (int(char) if char.isdigit() else ord(char) - ord("A") + 10) * weight
        for char, weight in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)
    )
    remainder = 11 - total % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def generate_registries() -> tuple[list[PersonSpec], list[LegalPersonSpec]]:
    """Every demo person and legal person: the fixed ones first, then the generated ones, the same on every run."""
    generator = _Generator()
    persons = list(FIXED_PERSONS)
    generated: list[PersonSpec] = []
    while len(generated) < GENERATED_PERSONS:
        generated.extend(generator.household())
    persons.extend(generated)
    adults = [
        spec
        for spec in generated
        if spec.status == PersonStatus.NORMAL
        and (document_birth_date_and_gender(spec.id_type, spec.id_number)[0] or REFERENCE_DATE)
        <= REFERENCE_DATE.replace(year=REFERENCE_DATE.year - 22)
    ]
    wanted = sum(count for _, count in GENERATED_LEGAL_PERSONS)
    if len(adults) < wanted:
        raise DemoRegistryError(f"only {len(adults)} adults to represent {wanted} legal persons")
    representatives = iter(generator.random.sample(adults, wanted))
    legal_persons = list(FIXED_LEGAL_PERSONS)
    for kind, count in GENERATED_LEGAL_PERSONS:
        legal_persons.extend(generator.legal_person(kind, next(representatives)) for _ in range(count))
    return persons, legal_persons
