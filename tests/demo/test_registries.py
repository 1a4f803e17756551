"""The demo registries: a thousand valid people in households, their legal persons, and the fixed demo identities."""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict

import pytest

from core import crypto
from datahub import registries
from datahub.identity import (
    IdentityType,
    birth_date_of,
    is_valid_resident_id,
    is_valid_uscc,
    normalize_phone,
    validate_identity_number,
)
from datahub.models import (
    ID_NUMBER_HASH_PURPOSE,
    DataAccessLog,
    HouseholdRelation,
    LegalPersonKind,
    LegalPersonRecord,
    MaritalStatus,
    PersonRecord,
    PersonStatus,
)
from demo.registries import REFERENCE_DATE, generate_registries, registry_counts, seed_registries
from demo.registry_data import (
    FIXED_PERSONS,
    LI_JIANGUO,
    LI_NA,
    LIN_XIAOYAN,
    WANG_XIAOMING,
    YIWANG_TECHNOLOGY,
    ZHAO_LI,
    ZHOU_XINYU,
)

pytestmark = pytest.mark.both_databases

PERSONS = 1008
LEGAL_PERSONS = 241


def _age(birth_date: datetime.date) -> int:
    had_birthday = (REFERENCE_DATE.month, REFERENCE_DATE.day) >= (birth_date.month, birth_date.day)
    return REFERENCE_DATE.year - birth_date.year - (0 if had_birthday else 1)


def test_the_demo_population_is_a_thousand_valid_zhejiang_residents_in_households():
    persons, _legal_persons = generate_registries()
    assert len(persons) == PERSONS
    assert len({person.id_number for person in persons}) == PERSONS
    for person in persons:
        validate_identity_number(IdentityType.RESIDENT_ID, person.id_number, today=REFERENCE_DATE)
        assert person.id_number.startswith("33")
        assert person.region_code.startswith("33")
        assert person.region_code.endswith("000000")
        assert person.address.startswith("浙江省")
        assert 2 <= len(person.name) <= 4
    phones = [person.phone for person in persons if person.phone]
    assert len(phones) == len(set(phones))
    assert all(len(phone) == 11 and phone.startswith("1") for phone in phones)
    households = defaultdict(list)
    for person in persons:
        households[person.household_number].append(person)
    assert all(1 <= len(members) <= 5 for members in households.values())
    assert all(
        [member.relation for member in members].count(HouseholdRelation.HEAD) == 1 for members in households.values()
    )
    with_minors = [
        number
        for number, members in households.items()
        if any(_age(birth_date_of(member.id_number) or REFERENCE_DATE) < 18 for member in members)
    ]
    assert len(with_minors) >= 100
    assert Counter(len(members) for members in households.values()).keys() == {1, 2, 3, 4, 5}


def test_the_demo_population_has_marital_statuses_and_head_and_spouse_are_married_to_each_other():
    persons, _legal_persons = generate_registries()
    statuses = Counter(person.marital_status for person in persons)
    assert {MaritalStatus.UNMARRIED, MaritalStatus.FIRST_MARRIAGE, MaritalStatus.DIVORCED} <= set(statuses)
    assert MaritalStatus.UNSTATED not in statuses
    by_number = {person.id_number: person for person in persons}
    married = [person for person in persons if person.spouse_id_number]
    assert len(married) >= 200
    for person in married:
        spouse = by_number[person.spouse_id_number]
        assert spouse.spouse_id_number == person.id_number
        assert spouse.household_number == person.household_number
    minors = [person for person in persons if _age(birth_date_of(person.id_number) or REFERENCE_DATE) < 20]
    assert {person.marital_status for person in minors} == {MaritalStatus.UNMARRIED}


def test_the_demo_legal_persons_have_valid_codes_and_representatives_from_the_registry():
    persons, legal_persons = generate_registries()
    assert len(legal_persons) == LEGAL_PERSONS
    assert len({legal_person.uscc for legal_person in legal_persons}) == LEGAL_PERSONS
    assert len({legal_person.name for legal_person in legal_persons}) == LEGAL_PERSONS
    assert all(is_valid_uscc(legal_person.uscc) for legal_person in legal_persons)
    assert all(legal_person.uscc.startswith(legal_person.kind) for legal_person in legal_persons)
    assert Counter(legal_person.kind for legal_person in legal_persons) == {
        LegalPersonKind.ENTERPRISE: 201,
        LegalPersonKind.INDIVIDUAL_BUSINESS: 20,
        LegalPersonKind.PUBLIC_INSTITUTION: 10,
        LegalPersonKind.SOCIAL_ORGANISATION: 10,
    }
    enterprises = [each for each in legal_persons if each.kind == LegalPersonKind.ENTERPRISE]
    assert all(each.name.endswith("有限公司") for each in enterprises)
    population = set(persons)
    for legal_person in legal_persons:
        representative = legal_person.representative
        assert representative in population
        assert representative.status == PersonStatus.NORMAL
        assert _age(birth_date_of(representative.id_number) or REFERENCE_DATE) >= 18


def test_the_generation_is_the_same_on_every_run():
    assert generate_registries() == generate_registries()


def test_the_fixed_identities_are_valid_and_distinct():
    today = datetime.date(2026, 11, 27)
    assert all(is_valid_resident_id(person.id_number, today=today) for person in FIXED_PERSONS)
    assert len({person.id_number for person in FIXED_PERSONS}) == len(FIXED_PERSONS)
    assert len({person.phone for person in FIXED_PERSONS if person.phone}) == len(FIXED_PERSONS) - 1
    assert is_valid_uscc(YIWANG_TECHNOLOGY.uscc)
    assert YIWANG_TECHNOLOGY.representative == LI_JIANGUO


@pytest.mark.django_db
def test_seeding_twice_creates_the_registries_once():
    assert seed_registries() == {"persons": PERSONS, "legal_persons": LEGAL_PERSONS}
    first_persons = list(PersonRecord.objects.order_by("pk").values_list())
    first_legal_persons = list(LegalPersonRecord.objects.order_by("pk").values_list())
    assert seed_registries() == {"persons": PERSONS, "legal_persons": LEGAL_PERSONS}
    assert list(PersonRecord.objects.order_by("pk").values_list()) == first_persons
    assert list(LegalPersonRecord.objects.order_by("pk").values_list()) == first_legal_persons
    assert registry_counts() == {"persons": PERSONS, "legal_persons": LEGAL_PERSONS}
    assert DataAccessLog.objects.count() == 0  # seeding writes; it reads nobody


@pytest.mark.django_db
def test_seeding_gives_records_made_before_marital_status_the_demo_one():
    # given a registry seeded before it knew marital status (the migration's default, 未说明)
    seed_registries()
    PersonRecord.objects.update(marital_status=MaritalStatus.UNSTATED, spouse_id_hash="")

    # when it is seeded again
    seed_registries()

    # then every person has the demo's status again, 王小明 married to 林晓燕
    assert PersonRecord.objects.filter(marital_status=MaritalStatus.UNSTATED).count() == 0
    wang = PersonRecord.objects.get(name="王小明")
    assert (wang.marital_status, wang.spouse_id_hash) == (
        MaritalStatus.FIRST_MARRIAGE,
        crypto.keyed_hash(LIN_XIAOYAN.id_number, purpose=ID_NUMBER_HASH_PURPOSE),
    )


@pytest.mark.django_db
def test_a_seeded_record_keeps_the_number_only_encrypted_hashed_and_masked():
    seed_registries()
    record = PersonRecord.objects.get(name="王小明")
    assert WANG_XIAOMING.id_number not in record.id_number_encrypted
    assert crypto.decrypt(record.id_number_encrypted) == WANG_XIAOMING.id_number
    assert record.id_number_masked == "3****************4"
    assert record.phone_masked == "137****9050"
    assert record.phone_hash == crypto.keyed_hash(normalize_phone(WANG_XIAOMING.phone), purpose="phone")
    assert (record.gender, record.birth_date) == ("1", datetime.date(1988, 5, 12))


@pytest.mark.django_db
def test_the_demo_citizen_acts_for_his_minor_daughter(citizen):
    seed_registries()
    members = registries.household_members(
        id_type=IdentityType.RESIDENT_ID, id_number=WANG_XIAOMING.id_number, actor=citizen, purpose="演示"
    )
    assert [(member.name, member.relation_to_head) for member in members] == [
        ("王小明", HouseholdRelation.HEAD),
        ("林晓燕", HouseholdRelation.SPOUSE),
        ("王雨桐", HouseholdRelation.CHILD),
    ]
    assert members[2].is_minor_on(datetime.date(2026, 11, 27))
    assert not members[0].is_minor_on(datetime.date(2026, 11, 27))


@pytest.mark.django_db
def test_the_fixed_people_pass_the_real_name_check(citizen):
    seed_registries()
    for person in (WANG_XIAOMING, ZHAO_LI, LI_JIANGUO, LI_NA, ZHOU_XINYU):
        assert registries.person_verify(
            name=person.name,
            id_type=IdentityType.RESIDENT_ID,
            id_number=person.id_number,
            phone=person.phone,
            actor=citizen,
            purpose="演示",
        ), person.name


@pytest.mark.django_db
def test_li_jianguo_represents_the_demo_enterprise_and_li_na_does_not(enterprise_agent):
    seed_registries()

    def represents(number: str) -> bool:
        return registries.legal_person_is_represented_by(
            uscc=YIWANG_TECHNOLOGY.uscc,
            id_type=IdentityType.RESIDENT_ID,
            id_number=number,
            actor=enterprise_agent,
            purpose="演示",
        )

    assert represents(LI_JIANGUO.id_number)
    assert not represents(LI_NA.id_number)


@pytest.mark.django_db
def test_every_seeded_representative_is_found_in_the_population_registry():
    seed_registries()
    person_hashes = set(PersonRecord.objects.values_list("id_number_hash", flat=True))
    assert set(LegalPersonRecord.objects.values_list("legal_representative_id_hash", flat=True)) <= person_hashes
