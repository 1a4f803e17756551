"""The national code sets of the catalogue and the checks on their codes.

- 统一社会信用代码 (USCC, GB 32100-2015): 18 characters, the last a check character
  (checked by ``datahub.identity``, re-exported here).
- 行政区划代码 (12 digits, GB/T 2260 extended to towns and villages).
- 基本编码 (12 digits) and 实施编码 (31 = USCC + 行使层级 + 基本编码), GB/T 39046-2020.
"""

from __future__ import annotations

import re
import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

# The credit code is a national identifier kept by the legal-person registry: one implementation.
from datahub.identity import is_valid_uscc as is_valid_uscc
from datahub.identity import uscc_check_character as uscc_check_character
from datahub.identity import validate_uscc as validate_uscc

NATIONAL_REGION_CODE = "100000000000"


class RegionLevel(models.IntegerChoices):
    NATION = 1, _("Nation")
    PROVINCE = 2, _("Province")
    CITY = 3, _("City")
    COUNTY = 4, _("County")
    TOWN = 5, _("Town")
    VILLAGE = 6, _("Village")


def region_level_of(code: str) -> int | None:
    """The level a 12-digit administrative division code has by its shape, or None."""
    if not re.fullmatch(r"\d{12}", code or ""):
        return None
    if code == NATIONAL_REGION_CODE:
        return RegionLevel.NATION
    province, city, county, town, village = code[:2], code[2:4], code[4:6], code[6:9], code[9:]
    if province == "00":
        return None
    if city == "00":
        return RegionLevel.PROVINCE if county + town + village == "0" * 8 else None
    if county == "00":
        return RegionLevel.CITY if town + village == "0" * 6 else None
    if town == "000":
        return RegionLevel.COUNTY if village == "000" else None
    return RegionLevel.TOWN if village == "000" else RegionLevel.VILLAGE


# How many leading digits of a division code are its own at each level: every division below it shares them.
REGION_OWN_DIGITS = {
    RegionLevel.NATION: 0,
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWN: 9,
    RegionLevel.VILLAGE: 12,
}


def parent_region_code(code: str) -> str | None:
    """The code of the division one level up, by the code's shape."""
    level = region_level_of(code)
    if level is None or level == RegionLevel.NATION:
        return None
    if level == RegionLevel.PROVINCE:
        return NATIONAL_REGION_CODE
    return code[: REGION_OWN_DIGITS[RegionLevel(level - 1)]].ljust(12, "0")


def validate_region_code(code: str) -> None:
    if region_level_of(code) is None:
        raise ValidationError(
            _("An administrative division code has 12 digits, ending in zeros below its own level."),
            code="region_code",
        )


def validate_basic_code(code: str) -> None:
    if not re.fullmatch(r"\d{12}", code or ""):
        raise ValidationError(_("A basic code (基本编码) has 12 digits."), code="basic_code")


def implementation_code(*, department_uscc: str, level: int, basic_code: str) -> str:
    """实施编码: the implementing department's USCC, the level it acts at, and the basic code."""
    return f"{department_uscc}{level}{basic_code}"


def validate_implementation_code(code: str, *, department_uscc: str, level: int, basic_code: str) -> None:
    expected = implementation_code(department_uscc=department_uscc, level=level, basic_code=basic_code)
    if code != expected:
        raise ValidationError(
            _(
                "The implementation code must be the department's credit code, the level digit and the basic "
                "code (%(expected)s)."
            ),
            code="implementation_code",
            params={"expected": expected},
        )


# GB 11714 (组织机构代码): the weights of its eight characters and its check character.
_ORGANISATION_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organisation_code_check(first_eight: str) -> str:
    """The ninth character of a GB 11714 organisation code of digits whose first eight are given."""
    remainder = (
        11 - sum(int(char) * weight for char, weight in zip(first_eight, _ORGANISATION_CODE_WEIGHTS, strict=True)) % 11
    )
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def new_enterprise_uscc(region_code: str) -> str:
    """A new enterprise's credit code as the registration gives it (GB 32100: 9 工商, 1 企业, its county, a new
    organisation code, the check character). The number part is random: for the demo registry, not the national one."""
    body = f"{secrets.randbelow(10**8):08d}"
    first_seventeen = f"91{region_code[:6]}{body}{organisation_code_check(body)}"
    return first_seventeen + uscc_check_character(first_seventeen)
