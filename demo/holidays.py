"""The demo working-day calendar (core.models.Holiday) for 2026 and 2027.

The dates follow the State Council's arrangement for 2026 (国务院办公厅关于2026年部分节假日安排的通知);
2027's are provisional, laid out the same way until its notice is published. A province's
office keeps the table in the admin (节假日安排) each December.
"""

from __future__ import annotations

import datetime

from core.models import Holiday

_D = datetime.date


def _days(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    return [first + datetime.timedelta(days=offset) for offset in range((last - first).days + 1)]


# (name, holidays, weekend days worked instead)
CALENDAR: tuple[tuple[str, list[datetime.date], list[datetime.date]], ...] = (
    ("元旦", _days(_D(2026, 1, 1), _D(2026, 1, 3)), [_D(2026, 1, 4)]),
    ("春节", _days(_D(2026, 2, 15), _D(2026, 2, 23)), [_D(2026, 2, 14), _D(2026, 2, 28)]),
    ("清明节", _days(_D(2026, 4, 4), _D(2026, 4, 6)), []),
    ("劳动节", _days(_D(2026, 5, 1), _D(2026, 5, 5)), [_D(2026, 5, 9)]),
    ("端午节", _days(_D(2026, 6, 19), _D(2026, 6, 21)), []),
    ("中秋节", _days(_D(2026, 9, 25), _D(2026, 9, 27)), []),
    ("国庆节", _days(_D(2026, 10, 1), _D(2026, 10, 7)), [_D(2026, 9, 20), _D(2026, 10, 10)]),
    # 2027, provisional.
    ("元旦", _days(_D(2027, 1, 1), _D(2027, 1, 3)), []),
    ("春节", _days(_D(2027, 2, 5), _D(2027, 2, 13)), [_D(2027, 2, 20)]),
    ("清明节", _days(_D(2027, 4, 3), _D(2027, 4, 5)), []),
    ("劳动节", _days(_D(2027, 5, 1), _D(2027, 5, 5)), [_D(2027, 4, 25), _D(2027, 5, 8)]),
    ("端午节", _days(_D(2027, 6, 9), _D(2027, 6, 11)), []),
    ("中秋节", _days(_D(2027, 9, 15), _D(2027, 9, 17)), [_D(2027, 9, 18)]),
    ("国庆节", _days(_D(2027, 10, 1), _D(2027, 10, 7)), [_D(2027, 9, 26), _D(2027, 10, 9)]),
)


def seed_holidays() -> int:
    """Put the demo calendar in the table (existing days are left as they are); returns the days added."""
    added = 0
    for name, holidays, worked in CALENDAR:
        for day in holidays:
            added += Holiday.objects.get_or_create(day=day, defaults={"name": name, "is_working_day": False})[1]
        for day in worked:
            added += Holiday.objects.get_or_create(
                day=day, defaults={"name": f"{name}调休上班", "is_working_day": True}
            )[1]
    return added
