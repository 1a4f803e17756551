"""Synthetic published items for load tests and benchmarks, on top of the demo catalogue.

Every synthetic basic code starts with 9 (no demo or real one does), so they can be
counted and topped up. They are written with PostgreSQL's COPY (the ORM on SQLite).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.db.models import JSONField, Max

from bench.scale.plans import ScaleError
from demo.catalogue import DEMO_EFFECTIVE_FROM, DEMO_PUBLISHED_AT, SUPERVISION_HOTLINE
from demo.catalogue_data.fields import form
from demo.catalogue_data.parts import HOURS, application_form, instant, material, two_step
from services import search
from services.codes import implementation_code
from services.models import (
    Audience,
    Department,
    HandlingType,
    ItemType,
    OnlineDepth,
    Scope,
    Section,
    ServedParty,
    ServiceItem,
    Theme,
)
from services.selectors import catalogue_changed
from services.validation import item_problems, served_party_flags

SYNTHETIC_BASIC_CODE_PREFIX = "9"

_SYNTHETIC_SUBJECTS = (
    "烟花爆竹",
    "农药",
    "兽药",
    "饲料和饲料添加剂",
    "危险化学品",
    "二手车交易市场",
    "成品油零售",
    "燃气经营",
    "游泳场所",
    "民宿",
    "出版物零售",
    "印刷经营",
    "营业性演出",
    "水路运输",
    "港口经营",
    "机动车维修",
    "建筑起重机械",
    "房地产开发企业",
    "物业服务",
    "户外广告设施",
    "城市道路占用",
    "城市绿地占用",
    "城镇污水排入排水管网",
    "取水",
    "林木采伐",
    "野生动物人工繁育",
    "渔业捕捞",
    "宗教活动场所",
    "托育机构",
    "民办培训机构",
    "医疗器械经营",
    "化妆品生产",
    "放射诊疗",
    "计量器具",
    "粮食收购",
    "生鲜乳收购站",
    "拍卖企业",
    "典当行",
    "职业技能培训机构",
    "安全评价机构",
)
_SYNTHETIC_VARIANTS = ("新办", "变更", "延续", "注销", "补证")
# 事项类型 → how its name is made from a subject and a variant.
_SYNTHETIC_NAMES = {
    "01": "{subject}许可（{variant}）",
    "02": "对{subject}违法行为的行政处罚",
    "03": "对{subject}违法物品的查封、扣押",
    "04": "{subject}相关行政事业性收费征收",
    "05": "{subject}从业人员补贴发放（{variant}）",
    "06": "对{subject}的监督检查",
    "07": "{subject}登记（{variant}）",
    "08": "{subject}领域违法行为举报奖励",
    "09": "{subject}纠纷行政裁决",
    "10": "{subject}备案（{variant}）",
    "20": "{subject}信息查询和证明开具",
}
_SYNTHETIC_ITEM_TYPES = tuple(_SYNTHETIC_NAMES)
_SYNTHETIC_PARTIES: tuple[tuple[str, ...], ...] = (("1",), ("2",), ("1", "2"), ("2", "3", "4"))
# What differs from one synthetic item to the next; everything else comes from its template.
_SYNTHETIC_IDENTITY = (
    "implementation_code",
    "basic_code",
    "department_id",
    "exercise_level",
    "name",
    "consult_phone",
    "location",
)
TemplateKey = tuple[str, tuple[str, ...]]


def synthetic_item_count() -> int:
    return ServiceItem.objects.filter(basic_code__startswith=SYNTHETIC_BASIC_CODE_PREFIX, version=1).count()


def top_up_synthetic_items(
    *, target: int, batch_size: int = 5000, progress: Callable[[int], None] | None = None
) -> int:
    """Add published synthetic items until there are ``target`` of them; returns how many were added.

    They are spread over every department (and so every region and level), all
    事项类型, both audiences and the themes of their audience. Each batch is its own
    transaction, so an interrupted run keeps what it wrote and the next run tops up.
    """
    missing = target - synthetic_item_count()
    if missing <= 0:
        return 0
    departments = list(Department.objects.select_related("region").order_by("uscc"))
    if not departments:
        raise ScaleError("there are no departments: seed the demo catalogue first")
    themes = {
        audience: list(Theme.objects.filter(audience=audience).order_by("slug").values_list("id", flat=True))
        for audience in Audience.values
    }
    highest = ServiceItem.objects.filter(basic_code__startswith=SYNTHETIC_BASIC_CODE_PREFIX).aggregate(
        highest=Max("basic_code")
    )["highest"]
    first_number = int(highest[1:]) + 1 if highest else 1
    templates = {
        (item_type, parties): _synthetic_template(item_type, parties)
        for item_type in _SYNTHETIC_ITEM_TYPES
        for parties in _SYNTHETIC_PARTIES
    }
    for key, fields in templates.items():
        # Synthetic items of one template differ only in name, codes and department, which are built
        # to be right; one of each template is checked in full.
        item = ServiceItem(**fields, **_synthetic_identity(departments[0], 1, key[0]))
        problems = item_problems(item, department=departments[0])
        if problems:
            raise ScaleError(f"synthetic items of type {key[0]} for {key[1]} are invalid: {problems}")
    write = _copy_synthetic_items if connection.vendor == "postgresql" else _create_synthetic_items
    added = 0
    while added < missing:
        numbers = range(first_number + added, first_number + min(missing, added + batch_size))
        rows = [(number, departments[number % len(departments)]) for number in numbers]
        with transaction.atomic():
            write(rows, templates)
            ids = dict(
                ServiceItem.objects.filter(
                    basic_code__gte=_synthetic_basic_code(numbers[0]),
                    basic_code__lte=_synthetic_basic_code(numbers[-1]),
                ).values_list("basic_code", "id")
            )
            links = []
            for number, _department in rows:
                audience = (
                    Audience.PERSON if ServedParty.NATURAL_PERSON in _synthetic_key(number)[1] else Audience.ENTERPRISE
                )
                if themes[audience]:
                    theme_id = themes[audience][number % len(themes[audience])]
                    links.append(
                        ServiceItem.themes.through(serviceitem_id=ids[_synthetic_basic_code(number)], theme_id=theme_id)
                    )
            ServiceItem.themes.through.objects.bulk_create(links)
        search.reindex(list(ids.values()))
        added += len(rows)
        if progress:
            progress(len(rows))
    catalogue_changed()
    return added


def _synthetic_key(number: int) -> TemplateKey:
    return (
        _SYNTHETIC_ITEM_TYPES[number % len(_SYNTHETIC_ITEM_TYPES)],
        _SYNTHETIC_PARTIES[(number // 3) % len(_SYNTHETIC_PARTIES)],
    )


def _synthetic_basic_code(number: int) -> str:
    return f"{SYNTHETIC_BASIC_CODE_PREFIX}{number:011d}"


def _synthetic_identity(department: Department, number: int, item_type: str) -> dict[str, Any]:
    subject = _SYNTHETIC_SUBJECTS[(number // len(_SYNTHETIC_ITEM_TYPES)) % len(_SYNTHETIC_SUBJECTS)]
    variant = _SYNTHETIC_VARIANTS[number % len(_SYNTHETIC_VARIANTS)]
    basic_code = _synthetic_basic_code(number)
    level = department.region.level
    return {
        "implementation_code": implementation_code(department_uscc=department.uscc, level=level, basic_code=basic_code),
        "basic_code": basic_code,
        "department_id": department.pk,
        "exercise_level": level,
        "name": _SYNTHETIC_NAMES[item_type].format(subject=subject, variant=variant),
        "consult_phone": department.phone,
        "location": f"{department.address}（{department.name}窗口）",
    }


def _synthetic_template(item_type: str, parties: tuple[str, ...]) -> dict[str, Any]:
    """The fields every synthetic item of one type and audience shares (all but its identity)."""
    is_power = item_type in {ItemType.PENALTY, ItemType.COERCION, ItemType.INSPECTION}
    is_immediate = item_type in {ItemType.PUBLIC_SERVICE, ItemType.INSPECTION}
    for_persons, for_enterprises = served_party_flags(list(parties))
    if for_persons:
        applicant = ("applicant_name", "applicant_id_number")
        credential = material("id_card")
    else:
        applicant = ("enterprise_name", "uscc")
        credential = material("business_license")
    form_schema, form_ui = form("申请表", () if is_power else (*applicant, "reason", "phone"))
    if is_power:
        flow, stars, visits, depth, section = {}, 1, 0, OnlineDepth.GUIDE_ONLY, Section.TRANSPARENCY
    elif item_type == ItemType.PUBLIC_SERVICE:
        flow, stars, visits, depth, section = instant(), 5, 0, OnlineDepth.FULLY_ONLINE, Section.CONVENIENCE
    else:
        flow, stars, visits, depth, section = two_step(), 4, 1, OnlineDepth.ONLINE_ACCEPTANCE, Section.APPROVAL
    return {
        "aliases": "",
        "summary": "本事项为性能测试生成的模拟事项，办理要求以实际发布的办事指南为准。",
        "item_type": item_type,
        "served_parties": list(parties),
        "for_persons": for_persons,
        "for_enterprises": for_enterprises,
        "handling_type": HandlingType.IMMEDIATE if is_immediate else HandlingType.COMMITTED,
        "legal_limit": None if is_immediate else 20,
        "promised_limit": None if is_immediate else 10,
        "visits": visits,
        "star_level": stars,
        "online_depth": depth,
        "scope": Scope.PROVINCE if item_type == ItemType.PUBLIC_SERVICE else Scope.LOCAL,
        "section": section,
        "conditions": "由行政机关依职权实施，无需申请。" if is_power else "申请人符合法律法规规定的条件。",
        "legal_basis": "《中华人民共和国行政许可法》；《浙江省保障“最多跑一次”改革规定》。",
        "supervise_phone": SUPERVISION_HOTLINE,
        "hours": HOURS,
        "materials": [] if is_power else [application_form("申请表"), credential],
        "process": [] if is_power else [{"name": "申请"}, {"name": "受理"}, {"name": "办结"}],
        "form_schema": form_schema,
        "form_ui": form_ui,
        "workflow": flow,
        "version": 1,
        "status": ServiceItem.Status.PUBLISHED,
        "effective_from": DEMO_EFFECTIVE_FROM,
        "change_note": "性能测试模拟事项",
        "published_at": DEMO_PUBLISHED_AT,
    }


def _create_synthetic_items(rows: list[tuple[int, Department]], templates: dict[TemplateKey, dict[str, Any]]) -> None:
    """The portable way, for SQLite."""
    ServiceItem.objects.bulk_create(
        ServiceItem(
            **templates[_synthetic_key(number)], **_synthetic_identity(department, number, _synthetic_key(number)[0])
        )
        for number, department in rows
    )


def _copy_synthetic_items(rows: list[tuple[int, Department]], templates: dict[TemplateKey, dict[str, Any]]) -> None:
    """PostgreSQL's COPY: several times faster than a multi-row INSERT, which is what makes 100,000 items quick.

    Each template's row is encoded once; each item only encodes its identity.
    """
    fields = [field for field in ServiceItem._meta.concrete_fields if not field.primary_key]
    positions = {field.attname: index for index, field in enumerate(fields)}
    encoded: dict[TemplateKey, list[str]] = {}
    for key, template in templates.items():
        prototype = ServiceItem(**template)
        encoded[key] = [_copy_text(field, field.pre_save(prototype, add=True)) for field in fields]
    buffer = io.StringIO()
    for number, department in rows:
        key = _synthetic_key(number)
        values = list(encoded[key])
        for attname, value in _synthetic_identity(department, number, key[0]).items():
            values[positions[attname]] = _copy_text(ServiceItem._meta.get_field(attname.removesuffix("_id")), value)
        buffer.write("\t".join(values))
        buffer.write("\n")
    buffer.seek(0)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {quote(ServiceItem._meta.db_table)} ({columns}) FROM STDIN", buffer)


def _copy_text(field: Any, value: Any) -> str:
    """One value in COPY's text format."""
    if value is not None and isinstance(field, JSONField):
        value = json.dumps(value, ensure_ascii=False)
    elif value is not None:
        value = field.get_db_prep_save(value, connection)
    if value is None:
        return "\\N"
    text = ("t" if value else "f") if isinstance(value, bool) else str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
