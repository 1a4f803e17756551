"""Dates and numbers checked against reality: bounds relative to today, working days, amounts above zero."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone, translation

from approvals import forms_engine
from core.models import Holiday
from demo.catalogue_data.fields import form
from services import form_keywords

SCHEMA, UI = form(
    "测试预约表", ("appointment_date", "adoptee_birth_date", "operating_area", "registered_capital", "performance_date")
)


def _today() -> datetime.date:
    return timezone.localdate()


def _next(weekday: int, *, after: datetime.date) -> datetime.date:
    """The first day after ``after`` that falls on ``weekday`` (Monday 0)."""
    return after + datetime.timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)


def _valid() -> dict[str, Any]:
    return {
        "appointment_date": _next(2, after=_today()).isoformat(),  # a Wednesday, within two months
        "adoptee_birth_date": "2020-05-01",
        "operating_area": 35.5,
        "registered_capital": 10,
        "performance_date": _today().isoformat(),
    }


def _errors(changes: dict[str, Any], language: str = "en") -> dict[str, list[str]]:
    with translation.override(language):
        return forms_engine.validate(SCHEMA, UI, {**_valid(), **changes})


def test_a_possible_answer_has_no_errors(db):
    assert _errors({}) == {}


def test_an_appointment_in_the_past_is_refused_naming_today(db):
    assert _errors({"appointment_date": "2020-01-01"}) == {"appointment_date": ["The date cannot be before today."]}
    assert _errors({"appointment_date": "2020-01-01"}, "zh-hans") == {"appointment_date": ["日期不能早于今天。"]}


def test_an_appointment_on_a_sunday_is_refused(db):
    sunday = _next(6, after=_today())
    assert _errors({"appointment_date": sunday.isoformat()}) == {
        "appointment_date": ["Choose a working day: Monday to Friday, not a public holiday."]
    }
    assert _errors({"appointment_date": sunday.isoformat()}, "zh-hans") == {
        "appointment_date": ["须为工作日（周一至周五，法定节假日除外）。"]
    }


def test_an_appointment_on_a_public_holiday_is_refused_and_on_a_weekend_day_worked_instead_accepted(db):
    holiday = _next(1, after=_today())
    worked_saturday = _next(5, after=_today())
    Holiday.objects.create(day=holiday, name="测试假日")
    Holiday.objects.create(day=worked_saturday, is_working_day=True, name="测试调休")

    assert _errors({"appointment_date": holiday.isoformat()}) == {
        "appointment_date": ["Choose a working day: Monday to Friday, not a public holiday."]
    }
    assert _errors({"appointment_date": worked_saturday.isoformat()}) == {}


def test_an_appointment_beyond_two_months_is_refused_naming_the_last_day(db):
    far = _next(2, after=_today() + datetime.timedelta(days=61))
    last = (_today() + datetime.timedelta(days=60)).isoformat()
    assert _errors({"appointment_date": far.isoformat()}) == {"appointment_date": [f"The date cannot be after {last}."]}


def test_a_birth_date_in_the_future_is_refused_and_today_accepted(db):
    tomorrow = (_today() + datetime.timedelta(days=1)).isoformat()
    assert _errors({"adoptee_birth_date": tomorrow}) == {"adoptee_birth_date": ["The date cannot be after today."]}
    assert _errors({"adoptee_birth_date": tomorrow}, "zh-hans") == {"adoptee_birth_date": ["日期不能晚于今天。"]}
    assert _errors({"adoptee_birth_date": _today().isoformat()}) == {}


def test_a_performance_yesterday_is_refused_and_today_accepted(db):
    yesterday = (_today() - datetime.timedelta(days=1)).isoformat()
    assert _errors({"performance_date": yesterday}) == {"performance_date": ["The date cannot be before today."]}


def test_an_impossible_date_gets_the_format_message_only(db):
    assert _errors({"appointment_date": "2030-02-30"}) == {"appointment_date": ["Enter a real date as YYYY-MM-DD."]}


@pytest.mark.parametrize("area", [0, -3])
def test_an_area_of_zero_or_less_is_refused_with_one_message_naming_zero(db, area):
    assert _errors({"operating_area": area}) == {"operating_area": ["Enter a number greater than 0."]}
    assert _errors({"operating_area": area}, "zh-hans") == {"operating_area": ["请填写大于 0 的数字。"]}


def test_a_fixed_date_bound_names_its_date(db):
    schema = {
        "type": "object",
        "properties": {"start": {"type": "string", "format": "date", "minDate": "2026-01-01"}},
    }
    with translation.override("en"):
        assert forms_engine.validate(schema, {}, {"start": "2025-12-31"}) == {
            "start": ["The date cannot be before 2026-01-01."]
        }
        assert forms_engine.validate(schema, {}, {"start": "2026-01-01"}) == {}


def test_a_date_input_carries_the_bounds_of_today_for_the_browser(db):
    steps = forms_engine.form_steps(SCHEMA, UI)
    fields = {each.code: each for step in steps for each in step.fields}
    today = _today()

    assert fields["appointment_date"].min_date == today.isoformat()
    assert fields["appointment_date"].max_date == (today + datetime.timedelta(days=60)).isoformat()
    assert fields["adoptee_birth_date"].min_date == ""
    assert fields["adoptee_birth_date"].max_date == today.isoformat()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", datetime.date(2026, 3, 9)),
        ("today+1", datetime.date(2026, 3, 10)),
        ("today-36500", datetime.date(1926, 4, 3)),
        ("2024-02-29", datetime.date(2024, 2, 29)),
    ],
)
def test_a_date_bound_reads_today_with_an_offset_or_a_fixed_date(text, expected):
    assert form_keywords.date_bound(text, today=datetime.date(2026, 3, 9)) == expected


@pytest.mark.parametrize("text", ["tomorrow", "today+", "today*2", "2024-02-30", "20240229", 7, None])
def test_anything_else_is_no_date_bound(text):
    with pytest.raises(ValueError, match="not a date bound"):
        form_keywords.date_bound(text, today=datetime.date(2026, 3, 9))
