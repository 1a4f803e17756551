"""The national codes: USCC check character, region codes, implementation code composition."""

import pytest
from django.core.exceptions import ValidationError

from services.codes import (
    implementation_code,
    is_valid_uscc,
    new_enterprise_uscc,
    organisation_code_check,
    parent_region_code,
    region_level_of,
    uscc_check_character,
    validate_implementation_code,
    validate_region_code,
    validate_uscc,
)

# The standard's own example and credit codes of well-known enterprises, from public registers.
REAL_USCCS = ["91350100M000100Y43", "914403001922038216", "91110000100006485K"]


@pytest.mark.parametrize("code", REAL_USCCS)
def test_real_credit_codes_are_valid(code):
    assert is_valid_uscc(code)
    validate_uscc(code)


def test_a_changed_check_character_is_refused_with_its_reason():
    with pytest.raises(ValidationError) as error:
        validate_uscc("91350100M000100Y44")
    assert error.value.code == "uscc_check"


@pytest.mark.parametrize(
    "code", ["", "91350100M000100Y4", "91350100M000100Y433", "91350100M000100I43", "9135010OM000100Y43"]
)
def test_malformed_credit_codes_are_refused_for_their_shape(code):
    with pytest.raises(ValidationError) as error:
        validate_uscc(code)
    assert error.value.code == "uscc_shape"


def test_check_character_can_be_31_mod_31_which_is_zero():
    # Find a prefix whose weighted sum is a multiple of 31: its check character is "0".
    prefix = next(f"1133010{n:010d}" for n in range(10_000) if uscc_check_character(f"1133010{n:010d}") == "0")
    assert is_valid_uscc(prefix + "0")


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("100000000000", 1, None),
        ("330000000000", 2, "100000000000"),
        ("330100000000", 3, "330000000000"),
        ("330106000000", 4, "330100000000"),
        ("330106001000", 5, "330106000000"),
        ("330106001001", 6, "330106001000"),
    ],
)
def test_region_levels_and_parents_follow_the_code(code, level, parent):
    assert region_level_of(code) == level
    assert parent_region_code(code) == parent


@pytest.mark.parametrize("code", ["33010600000", "3301060000001", "000100000000", "330006000000", "33010600100A"])
def test_malformed_region_codes_are_refused(code):
    assert region_level_of(code) is None
    with pytest.raises(ValidationError):
        validate_region_code(code)


def test_implementation_code_is_credit_code_level_and_basic_code():
    code = implementation_code(department_uscc="11330000002482151X", level=2, basic_code="000105001000")
    assert code == "11330000002482151X2000105001000"
    assert len(code) == 31
    validate_implementation_code(code, department_uscc="11330000002482151X", level=2, basic_code="000105001000")
    with pytest.raises(ValidationError) as error:
        validate_implementation_code(code, department_uscc="11330000002482151X", level=3, basic_code="000105001000")
    assert error.value.code == "implementation_code"


def test_a_new_enterprise_gets_a_valid_credit_code_of_its_county():
    codes = {new_enterprise_uscc("330106000000") for _ in range(20)}

    assert len(codes) == 20
    for code in codes:
        assert is_valid_uscc(code)
        assert code.startswith("91330106")  # 工商 registration, an enterprise, of 西湖区
        assert code[16] == organisation_code_check(code[8:16])  # its organisation code has its own check


def test_the_organisation_code_check_follows_gb_11714():
    # the organisation codes inside two of the real credit codes above
    assert organisation_code_check("19220382") == "1"
    assert organisation_code_check("10000648") == "5"
    assert organisation_code_check("40000000") == "X"  # 11 - 12 % 11 = 10
    assert organisation_code_check("00000000") == "0"  # 11 - 0 = 11
