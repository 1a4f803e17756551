"""办件编号 and 查询密码: the number an application gets on submission and the hash of its query password."""

from __future__ import annotations

import datetime
import logging

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from core import crypto
from core.errors import DomainError

logger = logging.getLogger(__name__)

QUERY_PASSWORD_PURPOSE = "approvals.query-password"  # noqa: S105  # a hash purpose, not a password

MAX_SEQUENCE = 9999


def next_sequence(implementation_code: str, day: datetime.date) -> int:
    """The next 办件编号 sequence for this code and day: one atomic upsert, so concurrent submits never share one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO approvals_numbersequence (implementation_code, day, last) VALUES (%s, %s, 1) "
            "ON CONFLICT (implementation_code, day) DO UPDATE SET last = approvals_numbersequence.last + 1 "
            "RETURNING last",
            [implementation_code, day],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def new_number(implementation_code: str) -> str:
    day = timezone.localdate()  # Asia/Shanghai
    sequence = next_sequence(implementation_code, day)
    if sequence > MAX_SEQUENCE:
        logger.critical(
            "application numbers exhausted",
            extra={"implementation_code": implementation_code, "day": day.isoformat()},
        )
        raise DomainError(
            _("This service has received the most applications it can number today. Please submit again tomorrow."),
            code="numbers_exhausted",
        )
    return f"{implementation_code}{day:%Y%m%d}{sequence:04d}"


# The parts of a 办件编号, in order: the 实施编码 (the department's USCC, its level digit and the basic code), the day
# and the day's sequence. 18 + 1 + 12 + 8 + 4 = 43 characters.
NUMBER_PARTS = (18, 1, 12, 8, 4)


def number_groups(number: str) -> list[str]:
    """The parts of a 办件编号, to show it grouped; a number of another shape is one group."""
    if len(number) != sum(NUMBER_PARTS):
        return [number]
    groups = []
    start = 0
    for length in NUMBER_PARTS:
        groups.append(number[start : start + length])
        start += length
    return groups


def query_password_hash(number: str, password: str) -> str:
    return crypto.keyed_hash(f"{number}:{password}", purpose=QUERY_PASSWORD_PURPOSE)
