"""Working days (工作日): weekends off, public holidays off, 调休 weekend days worked, as the Holiday table says."""

from __future__ import annotations

import datetime

import pytest

from core import calendar
from core.models import Holiday

pytestmark = pytest.mark.django_db

day = datetime.date


@pytest.fixture
def national_day_2025() -> None:
    """国庆节 and 中秋节 2025 as arranged: 1–8 October off, 28 September and 11 October worked."""
    for holiday in range(1, 9):
        Holiday.objects.create(day=day(2025, 10, holiday), name="国庆节、中秋节")
    Holiday.objects.create(day=day(2025, 9, 28), is_working_day=True, name="国庆节调休")
    Holiday.objects.create(day=day(2025, 10, 11), is_working_day=True, name="国庆节调休")


def test_monday_to_friday_are_working_days_and_the_weekend_is_not():
    week = [day(2026, 3, 9) + datetime.timedelta(days=offset) for offset in range(7)]  # Monday to Sunday

    assert [calendar.is_working_day(each) for each in week] == [True, True, True, True, True, False, False]


def test_the_weekend_is_skipped_when_counting_forward():
    friday = day(2026, 3, 13)

    assert calendar.add_working_days(friday, 1) == day(2026, 3, 16)
    assert calendar.add_working_days(friday, 5) == day(2026, 3, 20)
    assert calendar.add_working_days(day(2026, 3, 14), 1) == day(2026, 3, 16)  # from a Saturday


def test_a_public_holiday_in_the_table_is_skipped():
    new_years_eve = day(2025, 12, 31)
    assert calendar.add_working_days(new_years_eve, 1) == day(2026, 1, 1)

    Holiday.objects.create(day=day(2026, 1, 1), name="元旦")

    assert calendar.is_working_day(day(2026, 1, 1)) is False
    assert calendar.add_working_days(new_years_eve, 1) == day(2026, 1, 2)
    assert calendar.working_days_between(new_years_eve, day(2026, 1, 2)) == 1


def test_a_weekend_day_worked_instead_counts(national_day_2025):
    friday = day(2025, 9, 26)

    assert calendar.is_working_day(day(2025, 9, 28)) is True  # a Sunday
    assert calendar.is_working_day(day(2025, 10, 11)) is True  # a Saturday
    assert calendar.is_working_day(day(2025, 10, 12)) is False  # the Sunday after it
    assert calendar.add_working_days(friday, 1) == day(2025, 9, 28)


def test_counting_across_the_national_day_week(national_day_2025):
    assert [calendar.is_working_day(day(2025, 10, each)) for each in range(1, 9)] == [False] * 8
    assert calendar.add_working_days(day(2025, 9, 30), 1) == day(2025, 10, 9)
    assert calendar.add_working_days(day(2025, 9, 30), 3) == day(2025, 10, 11)
    assert calendar.add_working_days(day(2025, 9, 26), 5) == day(2025, 10, 10)
    assert calendar.add_working_days(day(2025, 9, 26), 8) == day(2025, 10, 14)
    assert calendar.add_working_days(day(2025, 10, 3), 1) == day(2025, 10, 9)  # from inside the holiday


def test_working_days_between_counts_after_the_start_up_to_and_including_the_end(national_day_2025):
    assert calendar.working_days_between(day(2025, 9, 26), day(2025, 10, 13)) == 7
    assert calendar.working_days_between(day(2025, 9, 30), day(2025, 10, 8)) == 0
    assert calendar.working_days_between(day(2025, 9, 30), day(2025, 10, 9)) == 1
    assert calendar.working_days_between(day(2026, 3, 9), day(2026, 3, 16)) == 5
    assert calendar.working_days_between(day(2026, 3, 13), day(2026, 3, 15)) == 0


def test_counting_forward_and_counting_between_agree(national_day_2025):
    start = day(2025, 9, 25)

    for days in range(1, 15):
        assert calendar.working_days_between(start, calendar.add_working_days(start, days)) == days


def test_no_days_to_add_and_an_end_not_after_the_start_give_the_start_and_zero():
    assert calendar.add_working_days(day(2026, 3, 14), 0) == day(2026, 3, 14)
    assert calendar.add_working_days(day(2026, 3, 14), -2) == day(2026, 3, 14)
    assert calendar.working_days_between(day(2026, 3, 16), day(2026, 3, 16)) == 0
    assert calendar.working_days_between(day(2026, 3, 16), day(2026, 3, 9)) == 0


def test_a_deadline_runs_out_at_five_in_the_afternoon_in_shanghai():
    assert calendar.end_of_working_day(day(2025, 10, 9)) == datetime.datetime(2025, 10, 9, 9, 0, tzinfo=datetime.UTC)


def test_the_day_of_a_moment_is_the_shanghai_day():
    assert calendar.local_day(datetime.datetime(2026, 3, 9, 16, 0, 5, tzinfo=datetime.UTC)) == day(2026, 3, 10)
    assert calendar.local_day(datetime.datetime(2026, 3, 9, 15, 59, 59, tzinfo=datetime.UTC)) == day(2026, 3, 9)
