"""Working days (工作日): Monday to Friday, except public holidays, plus the weekend days worked instead (调休).

The exceptions live in the ``Holiday`` table, which the province's office fills
each December when the State Council publishes next year's arrangement. The
deadlines of the law and of the promised limits are counted here.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from core.models import Holiday

Exceptions = dict[datetime.date, bool]


def _exceptions(start: datetime.date, end: datetime.date) -> Exceptions:
    return dict(Holiday.objects.filter(day__gte=start, day__lte=end).values_list("day", "is_working_day"))


def all_exceptions() -> Exceptions:
    """Every day of the table, for many computations in one go (a routing batch): a few dozen rows a year."""
    return dict(Holiday.objects.values_list("day", "is_working_day"))


def is_working_day(day: datetime.date, exceptions: Exceptions | None = None) -> bool:
    if exceptions is None:
        exceptions = _exceptions(day, day)
    if day in exceptions:
        return exceptions[day]
    return day.weekday() < 5


def add_working_days(start: datetime.date, days: int, exceptions: Exceptions | None = None) -> datetime.date:
    """The working day that is ``days`` working days after ``start`` (``start`` itself not counted).

    ``exceptions`` is the table read beforehand (``all_exceptions``); without it the range is read here.
    """
    if days <= 0:
        return start
    if exceptions is None:
        # Every 5 working days need at most 7 calendar days, holidays add a few weeks at most.
        exceptions = _exceptions(start, start + datetime.timedelta(days=days * 2 + 40))
    day, counted = start, 0
    while counted < days:
        day += datetime.timedelta(days=1)
        if is_working_day(day, exceptions):
            counted += 1
    return day


def subtract_working_days(end: datetime.date, days: int, exceptions: Exceptions | None = None) -> datetime.date:
    """The working day ``days`` working days before ``end``: ``add_working_days`` counted backwards."""
    if days <= 0:
        return end
    if exceptions is None:
        exceptions = _exceptions(end - datetime.timedelta(days=days * 2 + 40), end)
    day, counted = end, 0
    while counted < days:
        day -= datetime.timedelta(days=1)
        if is_working_day(day, exceptions):
            counted += 1
    return day


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not after ``start``)."""
    if end <= start:
        return 0
    exceptions = _exceptions(start, end)
    count, day = 0, start
    while day < end:
        day += datetime.timedelta(days=1)
        count += is_working_day(day, exceptions)
    return count


def end_of_working_day(day: datetime.date) -> datetime.datetime:
    """17:00 in Asia/Shanghai on ``day``: when a deadline of that day runs out."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(17, 0)))


def local_day(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()
