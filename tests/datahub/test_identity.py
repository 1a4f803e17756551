"""Identity documents: each type's rule, what a resident ID number says, credit codes, and the masks."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils.translation import override

from datahub.identity import (
    Gender,
    IdentityType,
    birth_date_of,
    document_birth_date_and_gender,
    gender_of,
    is_valid_resident_id,
    is_valid_uscc,
    mask_id,
    mask_name,
    mask_phone,
    normalize_identity_number,
    normalize_phone,
    resident_id_check_character,
    uscc_check_character,
    validate_identity_number,
    validate_uscc,
)
from services import codes as catalogue_codes

pytestmark = pytest.mark.both_databases

TODAY = datetime.date(2026, 11, 27)


def _accepted(id_type: str, number: str) -> tuple[str, datetime.date | None, Gender | None]:
    """The number as it is stored once accepted, and the birth date and gender it gives (None for other documents).

    A refused number fails the test with its ValidationError.
    """
    validate_identity_number(id_type, number, today=TODAY)
    return (normalize_identity_number(number), *document_birth_date_and_gender(id_type, number))


def _refusal(id_type: str, number: str) -> str:
    with pytest.raises(ValidationError) as error:
        validate_identity_number(id_type, number, today=TODAY)
    return str(error.value.code)


# --- 居民身份证 (GB 11643-1999) ---

# The standard's own two examples, and the demo's fixed people.
VALID_RESIDENT_IDS = [
    "11010519491231002X",
    "440524188001010014",
    "330106198805120314",
    "330105199003080427",
    "330106201709010267",
    "110101200002290018",  # 29 February of a leap year
]


@pytest.mark.parametrize("number", VALID_RESIDENT_IDS)
def test_real_shaped_resident_id_numbers_are_valid(number):
    validate_identity_number(IdentityType.RESIDENT_ID, number, today=TODAY)
    assert is_valid_resident_id(number, today=TODAY)


def test_the_check_character_follows_the_standard_weights():
    assert resident_id_check_character("11010519491231002") == "X"
    assert resident_id_check_character("44052418800101001") == "4"


def test_a_lowercase_x_and_full_width_digits_are_read_as_typed():
    assert normalize_identity_number(" 11010519491231002x ") == "11010519491231002X"
    assert normalize_identity_number("３３０１０６１９８８０５１２０３１４") == "330106198805120314"
    validate_identity_number(IdentityType.RESIDENT_ID, "11010519491231002x", today=TODAY)


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("330106198805120315", "id_number_check"),  # one check character off
        ("330106198805120324", "id_number_check"),  # a digit changed
        ("11010519491231002Y", "id_number_shape"),
        ("33010619880512031", "id_number_shape"),  # 17 characters
        ("3301061988051203140", "id_number_shape"),  # 19 characters
        ("33010619880512X314", "id_number_shape"),
        ("330106880512031", "id_number_shape"),  # the retired 15-digit numbers
        ("990106198805120314", "id_number_region"),
        ("000000198805120314", "id_number_region"),
        ("330106198802300314", "id_number_birth_date"),  # 30 February
        ("330106198813010314", "id_number_birth_date"),  # month 13
        ("330106209901010314", "id_number_birth_date"),  # in the future
        ("330106202611280314", "id_number_birth_date"),  # tomorrow
        ("330106184912310314", "id_number_birth_date"),  # before 1850
    ],
)
def test_wrong_resident_id_numbers_are_refused_with_their_reason(number, code):
    assert _refusal(IdentityType.RESIDENT_ID, number) == code
    assert not is_valid_resident_id(number, today=TODAY)


def test_a_number_born_today_is_accepted():
    first = f"330106{TODAY:%Y%m%d}031"
    number = first + resident_id_check_character(first)

    assert _accepted(IdentityType.RESIDENT_ID, number) == (number, TODAY, Gender.MALE)
    assert is_valid_resident_id(number, today=TODAY)


def test_the_15_digit_refusal_says_to_use_the_18_character_number():
    with override("en"), pytest.raises(ValidationError, match="15-digit identity card numbers are no longer valid"):
        validate_identity_number(IdentityType.RESIDENT_ID, "330106880512031", today=TODAY)


def test_the_number_gives_birth_date_and_gender():
    assert birth_date_of("330106198805120314") == datetime.date(1988, 5, 12)
    assert gender_of("330106198805120314") == Gender.MALE  # 17th digit 1
    assert gender_of("330105199003080427") == Gender.FEMALE  # 17th digit 2
    assert gender_of("11010519491231002X") == Gender.FEMALE
    assert birth_date_of("330106198802300314") is None


def test_only_gb11643_style_documents_give_birth_date_and_gender():
    assert document_birth_date_and_gender(IdentityType.RESIDENT_ID, "330106201709010267") == (
        datetime.date(2017, 9, 1),
        Gender.FEMALE,
    )
    assert document_birth_date_and_gender(IdentityType.RESIDENCE_PERMIT, "810000199408230021") == (
        datetime.date(1994, 8, 23),
        Gender.FEMALE,
    )
    assert document_birth_date_and_gender(IdentityType.PASSPORT, "E12345678") == (None, None)
    assert document_birth_date_and_gender(IdentityType.RESIDENT_ID, "330106198805120315") == (None, None)


# --- The other documents ---


@pytest.mark.parametrize(
    ("number", "stored"),
    [
        ("E12345678", "E12345678"),
        ("EA1234567", "EA1234567"),
        ("G12345678", "G12345678"),
        ("123456789", "123456789"),
        ("P1234", "P1234"),
        ("X" * 16 + "1", "X" * 16 + "1"),
    ],
)
def test_passport_numbers_of_5_to_17_letters_and_digits_are_valid(number, stored):
    assert _accepted(IdentityType.PASSPORT, number) == (stored, None, None)


@pytest.mark.parametrize("number", ["E123", "ABCDEFGH", "E123456789012345678", "E1234-567_8", "护照12345"])
def test_other_passport_numbers_are_refused(number):
    assert _refusal(IdentityType.PASSPORT, number) == "id_number_shape"


@pytest.mark.parametrize(
    ("number", "stored"),
    [
        ("H12345678", "H12345678"),
        ("M12345678", "M12345678"),
        ("H1234567890", "H1234567890"),
        ("m87654321", "M87654321"),
    ],
)
def test_hong_kong_macao_permits_are_h_or_m_and_8_or_10_digits(number, stored):
    assert _accepted(IdentityType.HONG_KONG_MACAO_PERMIT, number) == (stored, None, None)


@pytest.mark.parametrize("number", ["H1234567", "H123456789", "H12345678901", "C12345678", "12345678", "HA2345678"])
def test_other_hong_kong_macao_permit_numbers_are_refused(number):
    assert _refusal(IdentityType.HONG_KONG_MACAO_PERMIT, number) == "id_number_shape"


@pytest.mark.parametrize(
    ("number", "stored"),
    [
        ("12345678", "12345678"),
        ("1234567890", "1234567890"),
        ("1234567890B", "1234567890B"),
        ("1234567890(B)", "1234567890B"),
        ("1234567890（B）", "1234567890B"),
    ],
)
def test_taiwan_permits_are_8_digits_or_the_older_10_digits_with_a_letter(number, stored):
    assert _accepted(IdentityType.TAIWAN_PERMIT, number) == (stored, None, None)


@pytest.mark.parametrize("number", ["1234567", "123456789", "T1234567", "12345678901", "1234567890BC"])
def test_other_taiwan_permit_numbers_are_refused(number):
    assert _refusal(IdentityType.TAIWAN_PERMIT, number) == "id_number_shape"


@pytest.mark.parametrize(
    ("number", "says"),
    [
        ("USA330112345678", (None, None)),  # the old cards' numbers say nothing of their holder
        ("CAN110185061200", (None, None)),
        ("933840198506120010", (datetime.date(1985, 6, 12), Gender.MALE)),
    ],
)
def test_foreign_permanent_resident_cards_old_and_new_are_valid(number, says):
    assert _accepted(IdentityType.FOREIGN_PERMANENT_RESIDENT, number) == (number, *says)


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("933840198506120011", "id_number_check"),
        ("833840198506120010", "id_number_shape"),
        ("US1330112345678", "id_number_shape"),
        ("USA33011234567", "id_number_shape"),
        ("999840198506120010", "id_number_region"),
        ("933840198513120010", "id_number_birth_date"),
    ],
)
def test_wrong_foreign_permanent_resident_numbers_are_refused(number, code):
    assert _refusal(IdentityType.FOREIGN_PERMANENT_RESIDENT, number) == code


@pytest.mark.parametrize(
    ("number", "says"),
    [
        ("810000199408230021", (datetime.date(1994, 8, 23), Gender.FEMALE)),
        ("820000198801010030", (datetime.date(1988, 1, 1), Gender.MALE)),
        ("830000197505200048", (datetime.date(1975, 5, 20), Gender.FEMALE)),
    ],
)
def test_residence_permits_of_hong_kong_macao_and_taiwan_residents_are_valid(number, says):
    assert _accepted(IdentityType.RESIDENCE_PERMIT, number) == (number, *says)


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("810000199408230022", "id_number_check"),
        ("840000199408230021", "id_number_shape"),
        ("330106198805120314", "id_number_shape"),  # a mainland resident's number
        ("81000019940823002", "id_number_shape"),
        ("810000199402300021", "id_number_birth_date"),
    ],
)
def test_wrong_residence_permit_numbers_are_refused(number, code):
    assert _refusal(IdentityType.RESIDENCE_PERMIT, number) == code


def test_an_unknown_type_and_an_empty_number_are_refused():
    assert _refusal("999", "330106198805120314") == "id_type"
    assert _refusal(IdentityType.RESIDENT_ID, "  ") == "id_number_required"


def test_the_type_codes_are_the_national_ones():
    assert IdentityType.values == ["111", "414", "516", "511", "553", "554"]


# --- 统一社会信用代码 ---

REAL_USCCS = ["91350100M000100Y43", "914403001922038216", "91110000100006485K", "91330106MA2CYW08X3"]


@pytest.mark.parametrize("code", REAL_USCCS)
def test_real_credit_codes_are_valid(code):
    assert is_valid_uscc(code)
    validate_uscc(code)


@pytest.mark.parametrize(
    ("code", "reason"),
    [("91350100M000100Y44", "uscc_check"), ("91350100M000100I43", "uscc_shape"), ("", "uscc_shape")],
)
def test_wrong_credit_codes_are_refused(code, reason):
    assert not is_valid_uscc(code)
    with pytest.raises(ValidationError) as error:
        validate_uscc(code)
    assert error.value.code == reason


@pytest.mark.parametrize("first_seventeen", ["91330106MA2CYW08X", "12330000470051726", "51330000501784577"])
def test_datahub_checks_credit_codes_as_the_catalogue_does(first_seventeen):
    assert uscc_check_character(first_seventeen) == catalogue_codes.uscc_check_character(first_seventeen)


# --- Masks ---


def test_an_identity_number_keeps_its_first_and_last_character():
    assert mask_id("330106198805120314") == "3****************4"
    assert mask_id("11010519491231002X") == "1****************X"
    assert mask_id("E12345678") == "E*******8"
    assert mask_id("AB") == "**"


@pytest.mark.parametrize(
    ("name", "masked"),
    [("王大友", "*大友"), ("王明", "*明"), ("欧阳娜娜", "**娜娜"), ("王", "*"), ("", ""), (" 李娜 ", "*娜")],
)
def test_a_name_keeps_its_last_characters(name, masked):
    assert mask_name(name) == masked


def test_a_phone_keeps_its_first_three_and_last_four_digits():
    assert mask_phone("13712349050") == "137****9050"
    assert mask_phone(normalize_phone("+86 137-1234-9050")) == "137****9050"
    assert mask_phone("12345") == "*****"


def test_phones_are_compared_as_digits_without_the_country_code():
    assert normalize_phone("+86 137 1234 9050") == "13712349050"
    assert normalize_phone("8613712349050") == "13712349050"
    assert normalize_phone("０５７１-８７０５４３２１") == "057187054321"
