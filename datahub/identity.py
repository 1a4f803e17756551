"""Identity documents and credit codes: their types, their checks, and how they are masked.

- 证件类型 (identity document types) with the codes of GB/T 39046-2020's code table
  (the common 证件类型代码: 111 居民身份证, 414 普通护照 …).
- 公民身份号码 (GB 11643-1999): 6-digit region, 8-digit birth date, 3-digit sequence
  (odd for men, even for women) and a check character over the first 17.
- 统一社会信用代码 (GB 32100-2015): datahub's own check, so that datahub depends on no workflow app.
- Masks for showing personal data to anyone but its owner (DESIGN §7): 姓名 *大友,
  身份证 3****************X, 手机 137****9050.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IdentityType(models.TextChoices):
    """证件类型, with the codes the national platform uses."""

    RESIDENT_ID = "111", _("Resident identity card")
    PASSPORT = "414", _("Ordinary passport")
    HONG_KONG_MACAO_PERMIT = "516", _("Mainland travel permit for Hong Kong and Macao residents")
    TAIWAN_PERMIT = "511", _("Mainland travel permit for Taiwan residents")
    FOREIGN_PERMANENT_RESIDENT = "553", _("Foreign permanent resident ID card")
    RESIDENCE_PERMIT = "554", _("Residence permit for Hong Kong, Macao and Taiwan residents")


class Gender(models.TextChoices):
    """性别 (GB/T 2261.1-2003)."""

    MALE = "1", _("Male")
    FEMALE = "2", _("Female")


# --- 公民身份号码 (GB 11643-1999) ---

RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK_CHARACTERS = "10X98765432"
# The provinces, autonomous regions, municipalities and SARs of GB/T 2260 (71 台湾, 81 香港, 82 澳门).
PROVINCE_CODES = frozenset(
    {
        *("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42"),
        *("43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82"),
    }
)
RESIDENCE_PERMIT_PREFIXES = ("810000", "820000", "830000")  # 香港, 澳门, 台湾 residents
EARLIEST_BIRTH_YEAR = 1850  # the standard's own example is born in 1880

_EIGHTEEN_WITH_CHECK = re.compile(r"^\d{17}[\dX]$")
_PASSPORT = re.compile(r"^(?=.*\d)[A-Z\d]{5,17}$")
_HONG_KONG_MACAO_PERMIT = re.compile(r"^[HM](\d{8}|\d{10})$")
_TAIWAN_PERMIT = re.compile(r"^(\d{8}|\d{10}[A-Z]?)$")
_FOREIGN_PERMANENT_RESIDENT_OLD = re.compile(r"^[A-Z]{3}\d{12}$")


def normalize_identity_number(number: str) -> str:
    """The number as it is stored and compared: half-width, capitals, no spaces or brackets.

    People type ``x`` for ``X``, full-width digits from a Chinese input method, and
    the old Taiwan permit's letter in brackets (``1234567890(B)``).
    """
    text = unicodedata.normalize("NFKC", number or "").upper()
    return re.sub(r"[\s()\-]", "", text)


def resident_id_check_character(first_seventeen: str) -> str:
    """The 18th character of a GB 11643 number whose first 17 digits are given."""
    total = sum(int(digit) * weight for digit, weight in zip(first_seventeen, RESIDENT_ID_WEIGHTS, strict=True))
    return RESIDENT_ID_CHECK_CHARACTERS[total % 11]


def _has_valid_check(number: str) -> bool:
    return bool(_EIGHTEEN_WITH_CHECK.match(number)) and resident_id_check_character(number[:17]) == number[17]


def birth_date_of(number: str) -> datetime.date | None:
    """The birth date written in an 18-character GB 11643-style number, or None when it is no date."""
    text = number[6:14]
    if not re.fullmatch(r"\d{8}", text):
        return None
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def gender_of(number: str) -> Gender:
    """The gender the 17th digit of an 18-character GB 11643-style number gives: odd for men."""
    return Gender.MALE if int(number[16]) % 2 == 1 else Gender.FEMALE


def is_valid_resident_id(number: str, *, today: datetime.date | None = None) -> bool:
    try:
        validate_identity_number(IdentityType.RESIDENT_ID, number, today=today)
    except ValidationError:
        return False
    return True


def _check_birth_date(number: str, today: datetime.date) -> None:
    birth_date = birth_date_of(number)
    if birth_date is None or birth_date.year < EARLIEST_BIRTH_YEAR or birth_date > today:
        raise ValidationError(
            _("The birth date in this number (characters 7 to 14) is not a real date of birth."),
            code="id_number_birth_date",
        )


def _check_gb11643(number: str, today: datetime.date) -> None:
    _check_birth_date(number, today)
    if resident_id_check_character(number[:17]) != number[17]:
        raise ValidationError(
            _("The last character of this number does not match the others; please check the number."),
            code="id_number_check",
        )


def _validate_resident_id(number: str, today: datetime.date) -> None:
    if len(number) == 15 and number.isdigit():
        raise ValidationError(
            _("15-digit identity card numbers are no longer valid; please enter the 18-character number."),
            code="id_number_shape",
        )
    if not _EIGHTEEN_WITH_CHECK.match(number):
        raise ValidationError(
            _("A resident identity card number has 18 characters: 17 digits and a digit or X."),
            code="id_number_shape",
        )
    if number[:2] not in PROVINCE_CODES:
        raise ValidationError(
            _("The first six digits of this number are not an administrative division code."),
            code="id_number_region",
        )
    _check_gb11643(number, today)


def _validate_passport(number: str, today: datetime.date) -> None:
    if not _PASSPORT.match(number):
        raise ValidationError(
            _("A passport number has 5 to 17 letters and digits, with at least one digit."),
            code="id_number_shape",
        )


def _validate_hong_kong_macao_permit(number: str, today: datetime.date) -> None:
    if not _HONG_KONG_MACAO_PERMIT.match(number):
        raise ValidationError(
            _("A Hong Kong and Macao travel permit number is H or M followed by 8 or 10 digits."),
            code="id_number_shape",
        )


def _validate_taiwan_permit(number: str, today: datetime.date) -> None:
    if not _TAIWAN_PERMIT.match(number):
        raise ValidationError(
            _("A Taiwan travel permit number has 8 digits (older permits: 10 digits and possibly a letter)."),
            code="id_number_shape",
        )


def _validate_foreign_permanent_resident(number: str, today: datetime.date) -> None:
    if _FOREIGN_PERMANENT_RESIDENT_OLD.match(number):
        return
    if not (_EIGHTEEN_WITH_CHECK.match(number) and number[0] == "9"):
        raise ValidationError(
            _(
                "A foreign permanent resident ID card number has 18 characters starting with 9 "
                "(older cards: 3 letters and 12 digits)."
            ),
            code="id_number_shape",
        )
    if number[1:3] not in PROVINCE_CODES:
        raise ValidationError(
            _("Characters 2 and 3 of this number are not a province code."),
            code="id_number_region",
        )
    _check_gb11643(number, today)


def _validate_residence_permit(number: str, today: datetime.date) -> None:
    if not (_EIGHTEEN_WITH_CHECK.match(number) and number.startswith(RESIDENCE_PERMIT_PREFIXES)):
        raise ValidationError(
            _("A residence permit number has 18 characters starting with 810000, 820000 or 830000."),
            code="id_number_shape",
        )
    _check_gb11643(number, today)


_VALIDATORS = {
    IdentityType.RESIDENT_ID: _validate_resident_id,
    IdentityType.PASSPORT: _validate_passport,
    IdentityType.HONG_KONG_MACAO_PERMIT: _validate_hong_kong_macao_permit,
    IdentityType.TAIWAN_PERMIT: _validate_taiwan_permit,
    IdentityType.FOREIGN_PERMANENT_RESIDENT: _validate_foreign_permanent_resident,
    IdentityType.RESIDENCE_PERMIT: _validate_residence_permit,
}


def validate_identity_number(id_type: str, number: str, *, today: datetime.date | None = None) -> None:
    """Refuse a number that cannot be a document of ``id_type``, with a message saying why.

    The number is checked as ``normalize_identity_number`` makes it, which is how
    it must be stored. ``today`` (default: today in the portal's time zone) is the
    latest birth date allowed.
    """
    if id_type not in IdentityType.values:
        raise ValidationError(_("Unknown identity document type."), code="id_type")
    normalized = normalize_identity_number(number)
    if not normalized:
        raise ValidationError(_("Please enter the document number."), code="id_number_required")
    _VALIDATORS[IdentityType(id_type)](normalized, today or timezone.localdate())


_GB11643_STYLE_TYPES = (
    IdentityType.RESIDENT_ID,
    IdentityType.FOREIGN_PERMANENT_RESIDENT,
    IdentityType.RESIDENCE_PERMIT,
)


def document_birth_date_and_gender(id_type: str, number: str) -> tuple[datetime.date | None, Gender | None]:
    """What the number itself says of its holder: for documents with a GB 11643-style number, birth date and gender."""
    normalized = normalize_identity_number(number)
    if id_type not in _GB11643_STYLE_TYPES or not _has_valid_check(normalized):
        return None, None
    return birth_date_of(normalized), gender_of(normalized)


# --- 统一社会信用代码 (GB 32100-2015) ---

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(rf"^[{USCC_CHARSET}]{{18}}$")


def uscc_check_character(first_seventeen: str) -> str:
    """The 18th character of a USCC whose first 17 characters are given."""
    total = sum(USCC_CHARSET.index(char) * weight for char, weight in zip(first_seventeen, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    return bool(_USCC_SHAPE.match(code or "")) and uscc_check_character(code[:17]) == code[17]


def validate_uscc(code: str) -> None:
    if not _USCC_SHAPE.match(code or ""):
        raise ValidationError(
            _("A unified social credit code has 18 characters: digits and capital letters except I, O, S, V and Z."),
            code="uscc_shape",
        )
    if uscc_check_character(code[:17]) != code[17]:
        raise ValidationError(
            _("The check character of this unified social credit code is wrong; please check the code."),
            code="uscc_check",
        )


# --- Phones and masks ---


def normalize_phone(phone: str) -> str:
    """Digits only, without the +86 country code: how phones are hashed and compared."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", phone or ""))
    if len(digits) == 13 and digits.startswith("86"):
        return digits[2:]
    return digits


def mask_id(number: str) -> str:
    """First and last character kept, the rest starred: 3****************X."""
    if len(number) <= 2:
        return "*" * len(number)
    return f"{number[0]}{'*' * (len(number) - 2)}{number[-1]}"


def mask_name(name: str) -> str:
    """The last two characters kept for names of three or more (*大友), the last one for two (*明)."""
    name = name.strip()
    if len(name) <= 1:
        return "*" * len(name)
    if len(name) == 2:
        return f"*{name[-1]}"
    return f"{'*' * (len(name) - 2)}{name[-2:]}"


def mask_phone(phone: str) -> str:
    """The first three and last four digits kept: 137****9050."""
    if len(phone) < 8:
        return "*" * len(phone)
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"
