"""What a published item may say: date bounds of its form, and materials that need no submission (免提交)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import translation

from services.models import ServiceItem
from services.validation import item_problems
from tests.services.builders import make_item


def _date_form(**keywords: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "visit": {"type": "string", "format": "date", **keywords},
            "rows": {"type": "array", "items": {"type": "object", "properties": {"area": {"type": "number"}}}},
        },
    }


def _problems(item: ServiceItem) -> dict[str, list[str]]:
    with translation.override("en"):
        return item_problems(item)


@pytest.mark.parametrize(
    "keywords",
    [
        {"minDate": "today", "maxDate": "today+60", "workingDay": True},
        {"minDate": "2026-01-01"},
        {"maxDate": "today-6570"},
    ],
)
def test_a_form_with_sound_date_bounds_may_be_published(db, keywords):
    item = make_item(form_schema=_date_form(**keywords))

    assert "form_schema" not in _problems(item)


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        (
            {"minDate": "yesterday"},
            "visit: minDate must be a date as YYYY-MM-DD or “today”, optionally ±days (today+1).",
        ),
        (
            {"maxDate": "2026-02-30"},
            "visit: maxDate must be a date as YYYY-MM-DD or “today”, optionally ±days (today+1).",
        ),
        ({"minDate": "2026-06-01", "maxDate": "2026-01-01"}, "visit: minDate comes after maxDate."),
        ({"workingDay": "yes"}, "visit: workingDay must be true or false."),
    ],
)
def test_a_form_with_a_bad_date_bound_is_refused(db, keywords, message):
    item = make_item(form_schema=_date_form(**keywords))

    assert _problems(item)["form_schema"] == [message]


def test_a_date_bound_on_a_field_that_is_no_date_is_refused_also_in_a_repeat(db):
    schema = _date_form()
    schema["properties"]["rows"]["items"]["properties"]["area"]["minDate"] = "today"
    item = make_item(form_schema=schema)

    assert _problems(item)["form_schema"] == [
        "rows/area: minDate can only be used on a date field (a string of format date)."
    ]


def _material(**changes: Any) -> dict[str, Any]:
    material = {"code": "exam_pass", "name": "考试成绩合格证明", "required": True, "form": "electronic"}
    return {**material, "source": "upload", **changes}


@pytest.mark.parametrize(
    "material",
    [
        _material(notes="数据共享，免提交"),
        _material(name="户籍信息（数据共享，免提交）"),
        _material(notes="电子证照共享，免提交", form="original"),
    ],
)
def test_a_required_upload_said_to_need_no_submission_is_refused(db, material):
    item = make_item(materials=[material])

    assert _problems(item)["materials"] == [
        "exam_pass: a material that need not be submitted (免提交) cannot be a required upload: give the certificate "
        "or registry it comes from, or make it optional."
    ]


@pytest.mark.parametrize(
    "material",
    [
        _material(notes="数据共享，免提交", source="registry:nurse_exam"),
        _material(notes="电子证照共享，免提交", source="certificate:nurse_exam_certificate"),
        _material(notes="数据共享的免提交", required=False),
        _material(name="申请结婚登记声明书", notes="在婚姻登记员面前亲自签署，免提交", at_counter=True),
        _material(notes="全体股东签署"),
    ],
)
def test_a_fetched_optional_or_counter_material_may_be_published(db, material):
    item = make_item(materials=[material])

    assert "materials" not in _problems(item)


def test_a_fetched_material_is_not_also_brought_to_the_counter(db):
    item = make_item(materials=[_material(source="certificate:resident_id_card", at_counter=True)])

    assert _problems(item)["materials"] == [
        "exam_pass: a material taken from a certificate or registry is not brought to the counter."
    ]


def test_at_counter_must_be_true_or_false(db):
    item = make_item(materials=[_material(at_counter="yes")])

    assert _problems(item)["materials"] == ["0/at_counter: 'yes' is not of type 'boolean'"]


def test_the_date_keywords_and_at_counter_survive_an_export_and_an_import(db, tmp_path: Path):
    schema = _date_form(minDate="today", workingDay=True)
    material = _material(name="申请结婚登记声明书", at_counter=True)
    item = make_item(form_schema=schema, materials=[material])
    exported = io.StringIO()
    call_command("catalogue_export", stdout=exported)
    document = json.loads(exported.getvalue())
    path = tmp_path / "catalogue.json"
    path.write_text(exported.getvalue(), encoding="utf-8")
    ServiceItem.objects.all().delete()

    call_command("catalogue_import", str(path), "--language", "en", stdout=io.StringIO(), stderr=io.StringIO())

    imported = ServiceItem.objects.get(implementation_code=item.implementation_code)
    assert document["items"][0]["form_schema"]["properties"]["visit"] == {
        "type": "string",
        "format": "date",
        "minDate": "today",
        "workingDay": True,
    }
    assert imported.form_schema == schema
    assert imported.materials == [material]
