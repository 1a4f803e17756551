"""Reading the base registries: each function's answer, and exactly one access-log row per call."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.db import IntegrityError, transaction

from core import crypto
from core.errors import DomainError
from datahub import registries
from datahub.identity import Gender, IdentityType
from datahub.models import (
    ID_NUMBER_HASH_PURPOSE,
    DataAccessLog,
    Ethnicity,
    HouseholdRelation,
    LegalPersonKind,
    LegalPersonStatus,
    MaritalStatus,
    PersonStatus,
)
from demo.registry_data import (
    LI_JIANGUO,
    LI_NA,
    LIN_XIAOYAN,
    WANG_XIAOMING,
    WANG_XIAOMING_HOUSEHOLD,
    WANG_YUTONG,
    YIWANG_TECHNOLOGY,
)
from tests.datahub.builders import WANG_JIANHUA, make_person, make_wang_household, make_yiwang_technology

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

RESIDENT_ID = IdentityType.RESIDENT_ID
WANG_NUMBER = WANG_XIAOMING.id_number  # 330106198805120314
WANG_MASKED = "3****************4"
UNKNOWN_NUMBER = "11010519491231002X"
PURPOSE = "初级实名认证"


@pytest.fixture
def wang_household(db: None) -> list[Any]:
    return make_wang_household()


@pytest.fixture
def yiwang(db: None) -> Any:
    return make_yiwang_technology()


def _only_log() -> DataAccessLog:
    rows = list(DataAccessLog.objects.all())
    assert len(rows) == 1, rows
    return rows[0]


def _log_fields(entry: DataAccessLog) -> dict[str, Any]:
    return {
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "department_id": entry.department_id,
        "resource": entry.resource,
        "method": entry.method,
        "record_key": entry.record_key,
        "purpose": entry.purpose,
        "result": entry.result,
    }


def _assert_no_clear_number(entry: DataAccessLog, *numbers: str) -> None:
    for field in DataAccessLog._meta.concrete_fields:
        value = str(getattr(entry, field.attname))
        for number in numbers:
            assert number not in value, field.name


# --- person_verify (比对验证) ---


def test_verify_matches_a_registered_person_by_document_and_name(wang_household, citizen):
    assert registries.person_verify(
        name="王小明", id_type=RESIDENT_ID, id_number=WANG_NUMBER, actor=citizen, purpose=PURPOSE, department_id=7
    )
    entry = _only_log()
    assert _log_fields(entry) == {
        "actor_id": citizen.pk,
        "actor_label": "",
        "department_id": 7,
        "resource": "population",
        "method": "verify",
        "record_key": WANG_MASKED,
        "purpose": PURPOSE,
        "result": "match",
    }
    assert entry.subject_hash == wang_household[0].id_number_hash
    _assert_no_clear_number(entry, WANG_NUMBER)


def test_verify_reads_the_number_and_name_as_people_type_them(wang_household, citizen):
    assert registries.person_verify(
        name=" 王 小明 ", id_type=RESIDENT_ID, id_number=" 330106 1988 0512 0314", actor=citizen, purpose=PURPOSE
    )


@pytest.mark.parametrize(
    ("name", "number", "phone"),
    [
        ("王晓明", WANG_NUMBER, None),  # another name
        ("王小明", UNKNOWN_NUMBER, None),  # not in the registry
        ("王小明", LIN_XIAOYAN.id_number, None),  # his wife's number
        ("王小明", WANG_NUMBER, "13712349051"),  # another phone
        ("王建华", WANG_JIANHUA.id_number, None),  # deceased
    ],
)
def test_verify_says_no_without_saying_why(wang_household, citizen, name, number, phone):
    assert not registries.person_verify(
        name=name, id_type=RESIDENT_ID, id_number=number, phone=phone, actor=citizen, purpose=PURPOSE
    )
    entry = _only_log()
    assert entry.result == "mismatch"
    assert entry.record_key == number[0] + "*" * 16 + number[-1]
    _assert_no_clear_number(entry, number)


def test_verify_with_a_phone_compares_the_phone_too(wang_household, citizen):
    assert registries.person_verify(
        name="王小明",
        id_type=RESIDENT_ID,
        id_number=WANG_NUMBER,
        phone="+86 137 1234 9050",
        actor=citizen,
        purpose=PURPOSE,
    )
    # The child has no phone in the registry: any phone is a mismatch.
    assert not registries.person_verify(
        name="王雨桐",
        id_type=RESIDENT_ID,
        id_number=WANG_YUTONG.id_number,
        phone="13712349050",
        actor=citizen,
        purpose=PURPOSE,
    )
    assert list(DataAccessLog.objects.order_by("pk").values_list("result", flat=True)) == ["match", "mismatch"]


def test_verify_under_another_document_type_finds_nobody(wang_household, citizen):
    assert not registries.person_verify(
        name="王小明", id_type=IdentityType.PASSPORT, id_number=WANG_NUMBER, actor=citizen, purpose=PURPOSE
    )


def test_a_task_reads_without_a_user_under_its_label(wang_household):
    assert registries.person_verify(
        name="王小明",
        id_type=RESIDENT_ID,
        id_number=WANG_NUMBER,
        actor=None,
        actor_label="approvals.tasks.verify_trust_first",
        purpose="信任在先事后核验",
    )
    entry = _only_log()
    assert (entry.actor_id, entry.actor_label) == (None, "approvals.tasks.verify_trust_first")


# --- person_lookup (查询引用) ---


def test_lookup_returns_what_a_form_may_prefill_with_the_number_in_clear(wang_household, clerk):
    view = registries.person_lookup(
        id_type=RESIDENT_ID, id_number=WANG_NUMBER, actor=clerk, purpose="预填申请表", department_id=3
    )
    assert view == registries.PersonView(
        name="王小明",
        id_type="111",
        id_number=WANG_NUMBER,
        id_number_masked=WANG_MASKED,
        gender=Gender.MALE,
        birth_date=datetime.date(1988, 5, 12),
        ethnicity=Ethnicity.HAN,
        household_number=WANG_XIAOMING_HOUSEHOLD,
        relation_to_head=HouseholdRelation.HEAD,
        household_region_code="330106000000",
        address=WANG_XIAOMING.address,
        phone_masked="137****9050",
        status=PersonStatus.NORMAL,
        marital_status=MaritalStatus.FIRST_MARRIAGE,
        spouse_id_hash=crypto.keyed_hash(LIN_XIAOYAN.id_number, purpose=ID_NUMBER_HASH_PURPOSE),
    )
    assert view.is_married
    entry = _only_log()
    assert _log_fields(entry) == {
        "actor_id": clerk.pk,
        "actor_label": "",
        "department_id": 3,
        "resource": "population",
        "method": "lookup",
        "record_key": WANG_MASKED,
        "purpose": "预填申请表",
        "result": "found",
    }
    _assert_no_clear_number(entry, WANG_NUMBER)


def test_lookup_of_an_unknown_number_returns_none_and_is_logged(wang_household, citizen):
    view = registries.person_lookup(id_type=RESIDENT_ID, id_number=UNKNOWN_NUMBER, actor=citizen, purpose=PURPOSE)
    assert view is None
    entry = _only_log()
    assert (entry.result, entry.record_key) == ("not_found", "1****************X")
    assert entry.subject_hash == crypto.keyed_hash(UNKNOWN_NUMBER, purpose=ID_NUMBER_HASH_PURPOSE)


def test_lookup_returns_a_deceased_person_with_their_status(wang_household, clerk):
    view = registries.person_lookup(id_type=RESIDENT_ID, id_number=WANG_JIANHUA.id_number, actor=clerk, purpose="核查")
    assert view is not None
    assert view.status == PersonStatus.DECEASED


def test_the_person_view_knows_a_minor(wang_household, citizen):
    view = registries.person_lookup(id_type=RESIDENT_ID, id_number=WANG_YUTONG.id_number, actor=citizen, purpose="x")
    assert view is not None
    assert view.age_on(datetime.date(2026, 8, 31)) == 8
    assert view.age_on(datetime.date(2026, 9, 1)) == 9
    assert view.is_minor_on(datetime.date(2035, 8, 31))
    assert not view.is_minor_on(datetime.date(2035, 9, 1))


# --- household_members ---


def test_household_members_are_the_registered_members_head_first(wang_household, citizen, django_assert_num_queries):
    with django_assert_num_queries(5):  # savepoint, the person, the household, the log row, release
        members = registries.household_members(
            id_type=RESIDENT_ID, id_number=WANG_NUMBER, actor=citizen, purpose="代未成年子女办理"
        )
    assert [(member.name, member.relation_to_head, member.id_number) for member in members] == [
        ("王小明", HouseholdRelation.HEAD, WANG_NUMBER),
        ("林晓燕", HouseholdRelation.SPOUSE, LIN_XIAOYAN.id_number),
        ("王雨桐", HouseholdRelation.CHILD, WANG_YUTONG.id_number),
    ]
    entry = _only_log()
    assert (entry.resource, entry.method, entry.record_key, entry.result) == (
        "population",
        "lookup",
        WANG_MASKED,
        "found",
    )


def test_household_members_from_the_childs_number_are_the_same(wang_household, citizen):
    members = registries.household_members(
        id_type=RESIDENT_ID, id_number=WANG_YUTONG.id_number, actor=citizen, purpose="x"
    )
    assert [member.name for member in members] == ["王小明", "林晓燕", "王雨桐"]


def test_household_members_of_an_unknown_person_are_none(wang_household, citizen):
    assert registries.household_members(id_type=RESIDENT_ID, id_number=UNKNOWN_NUMBER, actor=citizen, purpose="x") == []
    assert _only_log().result == "not_found"


# --- legal persons ---


def test_legal_person_lookup_returns_the_record_with_the_representative_masked(yiwang, enterprise_agent):
    view = registries.legal_person_lookup(uscc=" 91330106ma2cyw08x3 ", actor=enterprise_agent, purpose="企业开办预填")
    assert view == registries.LegalPersonView(
        uscc=YIWANG_TECHNOLOGY.uscc,
        name="杭州一网科技有限公司",
        kind=LegalPersonKind.ENTERPRISE,
        legal_representative_name="李建国",
        legal_representative_id_type="111",
        legal_representative_id_masked="3****************4",
        registered_region_code="330106000000",
        address=YIWANG_TECHNOLOGY.address,
        established_on=datetime.date(2019, 6, 18),
        registered_capital_fen=1_000_000_000,
        status=LegalPersonStatus.ACTIVE,
        registration_authority="杭州市西湖区市场监督管理局",
    )
    entry = _only_log()
    assert _log_fields(entry) == {
        "actor_id": enterprise_agent.pk,
        "actor_label": "",
        "department_id": None,
        "resource": "legal_person",
        "method": "lookup",
        "record_key": YIWANG_TECHNOLOGY.uscc,
        "purpose": "企业开办预填",
        "result": "found",
    }
    _assert_no_clear_number(entry, LI_JIANGUO.id_number)


def test_legal_person_lookup_of_an_unknown_code_returns_none(yiwang, enterprise_agent):
    assert registries.legal_person_lookup(uscc="91350100M000100Y43", actor=enterprise_agent, purpose="x") is None
    assert (_only_log().result, _only_log().record_key) == ("not_found", "91350100M000100Y43")


@pytest.mark.parametrize(
    ("id_type", "number", "expected"),
    [
        (RESIDENT_ID, LI_JIANGUO.id_number, True),
        (RESIDENT_ID, LI_JIANGUO.id_number.lower(), True),
        (RESIDENT_ID, LI_NA.id_number, False),
        (IdentityType.PASSPORT, LI_JIANGUO.id_number, False),
    ],
)
def test_legal_person_is_represented_by_its_registered_representative_only(
    yiwang, enterprise_agent, id_type, number, expected
):
    assert (
        registries.legal_person_is_represented_by(
            uscc=YIWANG_TECHNOLOGY.uscc,
            id_type=id_type,
            id_number=number,
            actor=enterprise_agent,
            purpose="法定代表人授权经办人",
            department_id=11,
        )
        is expected
    )
    entry = _only_log()
    assert _log_fields(entry) == {
        "actor_id": enterprise_agent.pk,
        "actor_label": "",
        "department_id": 11,
        "resource": "legal_person",
        "method": "verify",
        "record_key": YIWANG_TECHNOLOGY.uscc,
        "purpose": "法定代表人授权经办人",
        "result": "match" if expected else "mismatch",
    }
    assert entry.subject_hash == crypto.keyed_hash(number.upper(), purpose=ID_NUMBER_HASH_PURPOSE)
    _assert_no_clear_number(entry, number)


def test_an_unknown_enterprise_is_represented_by_nobody(yiwang, enterprise_agent):
    assert not registries.legal_person_is_represented_by(
        uscc="91350100M000100Y43",
        id_type=RESIDENT_ID,
        id_number=LI_JIANGUO.id_number,
        actor=enterprise_agent,
        purpose="x",
    )


# --- Every read states its purpose and its reader ---


def _calls(actor: Any) -> dict[str, Any]:
    person = {"id_type": RESIDENT_ID, "id_number": WANG_NUMBER, "actor": actor}
    return {
        "person_verify": lambda **kw: registries.person_verify(name="王小明", **person, **kw),
        "person_lookup": lambda **kw: registries.person_lookup(**person, **kw),
        "household_members": lambda **kw: registries.household_members(**person, **kw),
        "legal_person_lookup": lambda **kw: registries.legal_person_lookup(
            uscc=YIWANG_TECHNOLOGY.uscc, actor=actor, **kw
        ),
        "legal_person_is_represented_by": lambda **kw: registries.legal_person_is_represented_by(
            uscc=YIWANG_TECHNOLOGY.uscc, **person, **kw
        ),
    }


FUNCTIONS = [
    "person_verify",
    "person_lookup",
    "household_members",
    "legal_person_lookup",
    "legal_person_is_represented_by",
]


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("purpose", ["", "   "])
def test_a_read_without_a_purpose_is_refused_and_not_logged(wang_household, yiwang, citizen, function, purpose):
    with pytest.raises(DomainError) as error:
        _calls(citizen)[function](purpose=purpose)
    assert error.value.code == "purpose_required"
    assert DataAccessLog.objects.count() == 0


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_read_without_a_user_needs_a_label(wang_household, yiwang, function):
    with pytest.raises(DomainError) as error:
        _calls(None)[function](purpose=PURPOSE)
    assert error.value.code == "actor_required"
    assert DataAccessLog.objects.count() == 0


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_read_writes_exactly_one_log_row(wang_household, yiwang, citizen, function):
    _calls(citizen)[function](purpose=PURPOSE)
    entry = _only_log()
    assert (entry.actor_id, entry.purpose) == (citizen.pk, PURPOSE)
    _assert_no_clear_number(entry, WANG_NUMBER)


def test_a_too_long_purpose_is_refused(wang_household, citizen):
    with pytest.raises(DomainError) as error:
        registries.person_lookup(id_type=RESIDENT_ID, id_number=WANG_NUMBER, actor=citizen, purpose="因" * 201)
    assert error.value.code == "purpose_too_long"


def test_an_unknown_document_type_is_refused(wang_household, citizen):
    with pytest.raises(DomainError) as error:
        registries.person_lookup(id_type="999", id_number=WANG_NUMBER, actor=citizen, purpose=PURPOSE)
    assert error.value.code == "id_type"
    assert DataAccessLog.objects.count() == 0


def test_the_log_row_belongs_to_the_transaction_of_the_read(wang_household, citizen):
    counted_inside = []

    def read_then_fail() -> None:
        with transaction.atomic():
            registries.person_lookup(id_type=RESIDENT_ID, id_number=WANG_NUMBER, actor=citizen, purpose=PURPOSE)
            counted_inside.append(DataAccessLog.objects.count())
            raise RuntimeError("the request failed after the read")

    with pytest.raises(RuntimeError):
        read_then_fail()
    assert counted_inside == [1]
    assert DataAccessLog.objects.count() == 0


def test_records_made_under_an_old_key_are_found_and_read_after_rotation(db, settings, citizen):
    old_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old_key
    make_person(WANG_XIAOMING)
    settings.FIELD_ENCRYPTION_KEY = f"{Fernet.generate_key().decode()},{old_key}"
    view = registries.person_lookup(id_type=RESIDENT_ID, id_number=WANG_NUMBER, actor=citizen, purpose=PURPOSE)
    assert view is not None
    assert view.id_number == WANG_NUMBER
    assert registries.person_verify(
        name="王小明", id_type=RESIDENT_ID, id_number=WANG_NUMBER, phone="13712349050", actor=citizen, purpose=PURPOSE
    )


def test_the_database_refuses_a_log_row_without_a_reader_or_a_purpose(db, citizen):
    base = {"resource": "population", "method": "lookup", "record_key": WANG_MASKED, "result": "found"}
    with pytest.raises(IntegrityError), transaction.atomic():
        DataAccessLog.objects.create(actor=None, actor_label="", purpose=PURPOSE, **base)
    with pytest.raises(IntegrityError), transaction.atomic():
        DataAccessLog.objects.create(actor=citizen, purpose="", **base)
    assert DataAccessLog.objects.count() == 0
