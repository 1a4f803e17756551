"""Builders of valid, saved catalogue rows for tests: a region, a department, a published item."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from services.codes import (
    NATIONAL_REGION_CODE,
    implementation_code,
    parent_region_code,
    region_level_of,
)
from services.models import Department, DepartmentKind, Region, ServiceItem, Theme
from services.validation import served_party_flags
from tests.services.factories import uscc_for

PROVINCE_CODE = "330000000000"
CITY_CODE = "330100000000"
ITEM_START = datetime.date(2024, 1, 1)


def make_uscc(serial: int, *, region_code: str = CITY_CODE) -> str:
    """A valid credit code of a government organ (11…) in a region."""
    return uscc_for(region_code, serial)


def make_region(code: str = CITY_CODE, name: str | None = None) -> Region:
    """The region with this code, with the province above it (created when missing)."""
    level = region_level_of(code)
    assert level is not None, code
    parent_code = parent_region_code(code)
    parent = make_region(parent_code) if parent_code and parent_code != NATIONAL_REGION_CODE else None
    region, _created = Region.objects.get_or_create(
        code=code,
        defaults={
            "name": name or {PROVINCE_CODE: "浙江省", CITY_CODE: "杭州市"}.get(code, f"区划{code}"),
            "level": level,
            "parent": parent,
        },
    )
    return region


def make_department(
    *, serial: int = 1, kind: str = DepartmentKind.CIVIL_AFFAIRS, region: Region | None = None, **overrides: Any
) -> Department:
    region = region or make_region()
    fields: dict[str, Any] = {
        "uscc": make_uscc(serial, region_code=region.code),
        "name": f"{region.name}测试局{serial}",
        "kind": kind,
        "region": region,
        "phone": "0571-12345",
    }
    fields.update(overrides)
    return Department.objects.create(**fields)


def make_theme(slug: str = "marriage", name: str = "婚育收养", audience: str = "person") -> Theme:
    theme, _created = Theme.objects.get_or_create(slug=slug, defaults={"name": name, "audience": audience})
    return theme


def item_fields(department: Department, **overrides: Any) -> dict[str, Any]:
    """Every field of a valid published version 1 of an entry of this department."""
    basic_code = overrides.pop("basic_code", "000120000001")
    level = department.region.level
    fields: dict[str, Any] = {
        "implementation_code": implementation_code(department_uscc=department.uscc, level=level, basic_code=basic_code),
        "basic_code": basic_code,
        "department": department,
        "exercise_level": level,
        "name": "结婚登记",
        "aliases": "领证,登记结婚",
        "summary": "内地居民办理结婚登记。",
        "item_type": "07",
        "served_parties": ["1"],
        "handling_type": "2",
        "legal_limit": 20,
        "promised_limit": 1,
        "visits": 0,
        "star_level": 5,
        "online_depth": 5,
        "scope": "2",
        "section": "approval",
        "conditions": "男女双方自愿。\n达到法定婚龄。",
        "legal_basis": "《中华人民共和国民法典》第一千零四十九条",
        "consult_phone": "0571-12345",
        "location": "杭州市民政局婚姻登记处",
        "hours": "工作日 9:00–17:00",
        "materials": [
            {"code": "id-card", "name": "居民身份证", "required": True, "form": "original", "source": "upload"},
            {
                "code": "photo",
                "name": "合影照片",
                "required": True,
                "form": "original",
                "copies": 3,
                "source": "upload",
            },
        ],
        "fees": [{"code": "fee", "name": "登记费", "standard": "免费", "amount_fen": 0}],
        "faqs": [{"question": "需要户口簿吗？", "answer": "不需要。"}],
        "process": [{"name": "申请"}, {"name": "审查", "description": "当场审查"}],
        "form_schema": {"type": "object", "properties": {"spouse": {"type": "string", "title": "配偶姓名"}}},
        "form_ui": {"order": ["spouse"]},
        "workflow": {
            "stages": [
                {
                    "key": "review",
                    "tasks": [
                        {
                            "key": "review",
                            "name": "审查",
                            "department": {"rule": "implementing"},
                            "results": ["同意", "不同意"],
                        }
                    ],
                }
            ]
        },
        "version": 1,
        "status": ServiceItem.Status.PUBLISHED,
        "effective_from": ITEM_START,
        "published_at": timezone.now(),
        "change_note": "首次发布",
    }
    fields.update(overrides)
    fields["for_persons"], fields["for_enterprises"] = served_party_flags(fields["served_parties"])
    return fields


def make_item(
    *, department: Department | None = None, themes: list[Theme] | None = None, **overrides: Any
) -> ServiceItem:
    """A saved, valid version of an entry (by default a published version 1)."""
    item = ServiceItem.objects.create(**item_fields(department or make_department(), **overrides))
    if themes:
        item.themes.set(themes)
    return item


def version_columns(item: ServiceItem) -> dict[str, Any]:
    """Every column of a version, to compare it before and after: a published version never changes."""
    return {field.name: getattr(item, field.name) for field in ServiceItem._meta.concrete_fields}
