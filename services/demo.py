"""Load the demo catalogue: Zhejiang's regions and departments, themes, items, bundles and synonyms.

``seed_catalogue`` is idempotent: it creates what is missing, keyed by each row's
natural key (division code, credit code, slug, 实施编码, term), and never changes
a row that is already there, so running it twice changes nothing and an
administrator's edits survive a second run.
"""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Exists, JSONField, Max, OuterRef

from services import search
from services.actions import catalogue_updated
from services.codes import RegionLevel, implementation_code, parent_region_code, region_level_of
from services.demo_data.bundles import BUNDLES
from services.demo_data.departments import DEPARTMENTS, DEPARTMENTS_BY_KEY, HOTLINES, KIND_NUMBERS, DepartmentSpec
from services.demo_data.fields import form
from services.demo_data.items import ITEMS
from services.demo_data.parts import (
    CITY,
    COUNTY,
    EVERYWHERE,
    HOURS,
    MAIN,
    PROVINCE,
    ItemSpec,
    application_form,
    instant,
    material,
    process_steps,
    two_step,
)
from services.demo_data.regions import (
    CITY_CODES,
    COUNTY_CODES,
    HANGZHOU_CODE,
    PROVINCE_CODE,
    REGIONS,
    XIHU_CODE,
)
from services.demo_data.synonyms import SYNONYMS
from services.demo_data.themes import THEMES
from services.models import (
    Audience,
    Bundle,
    Department,
    HandlingType,
    ItemType,
    OnlineDepth,
    Region,
    Scope,
    Section,
    ServedParty,
    ServiceItem,
    ServiceSearchToken,
    Synonym,
    Theme,
)
from services.selectors import catalogue_changed
from services.validation import item_problems, served_party_flags

DEMO_EFFECTIVE_FROM = datetime.date(2026, 1, 1)
# Midnight of 2026-01-01 in Asia/Shanghai, so every run writes the same value.
DEMO_PUBLISHED_AT = datetime.datetime(2025, 12, 31, 16, 0, tzinfo=datetime.UTC)
DEMO_CHANGE_NOTE = "首次发布（演示目录）"
# Every demo basic code starts with these digits; synthetic items (seed_scale) start with 9.
DEMO_BASIC_CODE_PREFIX = "33"
SUPERVISION_HOTLINE = "12345"

_MAIN_REGION = {PROVINCE: PROVINCE_CODE, CITY: HANGZHOU_CODE, COUNTY: XIHU_CODE}
_LEVEL_REGIONS = {PROVINCE: (PROVINCE_CODE,), CITY: CITY_CODES, COUNTY: COUNTY_CODES}


class DemoCatalogueError(Exception):
    """The demo data contradicts itself or the catalogue rules; the message names what is wrong."""


def seed_catalogue() -> dict[str, int]:
    """Create the demo catalogue where it is missing and return how many of each thing now exist."""
    with transaction.atomic():
        region_ids = _seed_regions()
        departments = _seed_departments(region_ids)
        theme_ids = _seed_themes()
        _seed_items(departments, theme_ids)
        _seed_bundles(theme_ids)
        _seed_synonyms()
    index_unindexed_items()
    return catalogue_counts()


def index_unindexed_items() -> int:
    """Add the published items that search does not know yet to its index; returns how many."""
    unindexed = list(
        ServiceItem.objects.published()
        .filter(~Exists(ServiceSearchToken.objects.filter(item_id=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    catalogue_updated(published_ids=unindexed, retired_ids=[])
    return len(unindexed)


def catalogue_counts() -> dict[str, int]:
    """How many regions (and of them provinces, cities, counties), departments, themes,
    published items, bundles and synonyms the catalogue holds."""
    regions_by_level = dict(
        Region.objects.order_by().values("level").annotate(count=Count("id")).values_list("level", "count")
    )
    return {
        "regions": sum(regions_by_level.values()),
        "provinces": regions_by_level.get(RegionLevel.PROVINCE, 0),
        "cities": regions_by_level.get(RegionLevel.CITY, 0),
        "counties": regions_by_level.get(RegionLevel.COUNTY, 0),
        "departments": Department.objects.count(),
        "themes": Theme.objects.count(),
        "items": ServiceItem.objects.published().count(),
        "bundles": Bundle.objects.count(),
        "synonyms": Synonym.objects.count(),
    }


def demo_basic_code(spec: ItemSpec) -> str:
    """基本编码 of a demo item: 33, the department kind, the item type and the serial (12 digits)."""
    return f"{DEMO_BASIC_CODE_PREFIX}{KIND_NUMBERS[spec.kind]:02d}{spec.item_type}{spec.serial:03d}000"


def implementing_departments(spec: ItemSpec) -> list[DepartmentSpec]:
    """The demo departments that implement ``spec``: its main region's, or all of its kind and level."""
    if spec.where == MAIN:
        region_codes: list[str] = [_MAIN_REGION[spec.level]]
    elif spec.where == EVERYWHERE:
        region_codes = [code for code in _LEVEL_REGIONS[spec.level] if (code, spec.kind) in DEPARTMENTS_BY_KEY]
    else:
        raise DemoCatalogueError(f"demo item {spec.name!r}: unknown where={spec.where!r}")
    region_codes += spec.also_in
    missing = [code for code in region_codes if (code, spec.kind) not in DEPARTMENTS_BY_KEY]
    if missing:
        raise DemoCatalogueError(f"demo item {spec.name!r}: no {spec.kind} department in regions {missing}")
    return [DEPARTMENTS_BY_KEY[(code, spec.kind)] for code in region_codes]


def _seed_regions() -> dict[str, int]:
    """Regions by level, parents first; returns the id of every region by its code."""
    for spec in REGIONS:
        level = region_level_of(spec.code)
        if level is None or parent_region_code(spec.code) != spec.parent_code:
            raise DemoCatalogueError(f"demo region {spec.name} has a bad code or parent: {spec.code}")
    ids = dict(Region.objects.filter(code__in=[spec.code for spec in REGIONS]).values_list("code", "id"))
    for level in sorted({region_level_of(spec.code) or 0 for spec in REGIONS}):
        new = [
            Region(
                code=spec.code,
                name=spec.name,
                level=level,
                parent_id=ids[spec.parent_code] if spec.parent_code else None,
            )
            for spec in REGIONS
            if region_level_of(spec.code) == level and spec.code not in ids
        ]
        Region.objects.bulk_create(new)
        ids.update(Region.objects.filter(code__in=[region.code for region in new]).values_list("code", "id"))
    return ids


def _seed_departments(region_ids: dict[str, int]) -> dict[str, Department]:
    """Departments by credit code, each with its region loaded (item validation reads its level)."""
    usccs = [spec.uscc for spec in DEPARTMENTS]
    existing = set(Department.objects.filter(uscc__in=usccs).values_list("uscc", flat=True))
    Department.objects.bulk_create(
        Department(
            uscc=spec.uscc,
            name=spec.name,
            short_name=spec.short_name,
            kind=spec.kind,
            region_id=region_ids[spec.region_code],
            phone=spec.phone,
            address=spec.address,
            description=spec.description,
        )
        for spec in DEPARTMENTS
        if spec.uscc not in existing
    )
    return {
        department.uscc: department for department in Department.objects.filter(uscc__in=usccs).select_related("region")
    }


def _seed_themes() -> dict[str, int]:
    existing = set(Theme.objects.values_list("slug", flat=True))
    Theme.objects.bulk_create(
        Theme(slug=spec.slug, name=spec.name, audience=spec.audience, description=spec.description, position=position)
        for position, spec in enumerate(THEMES, start=1)
        if spec.slug not in existing
    )
    return dict(Theme.objects.filter(slug__in=[spec.slug for spec in THEMES]).values_list("slug", "id"))


def _item(spec: ItemSpec, department: Department, form_schema: dict, form_ui: dict) -> ServiceItem:
    code = demo_basic_code(spec)
    level = department.region.level
    for_persons, for_enterprises = served_party_flags(list(spec.parties))
    hotline = HOTLINES.get(spec.kind)
    return ServiceItem(
        implementation_code=implementation_code(department_uscc=department.uscc, level=level, basic_code=code),
        basic_code=code,
        department=department,
        exercise_level=level,
        name=spec.name,
        aliases=spec.aliases,
        summary=spec.summary,
        item_type=spec.item_type,
        served_parties=list(spec.parties),
        for_persons=for_persons,
        for_enterprises=for_enterprises,
        handling_type=spec.handling,
        legal_limit=spec.legal_limit,
        legal_limit_unit=spec.limit_unit,
        promised_limit=spec.promised_limit,
        promised_limit_unit=spec.limit_unit,
        visits=spec.visits,
        star_level=spec.stars,
        online_depth=spec.depth,
        scope=spec.scope,
        section=spec.section,
        conditions=spec.conditions,
        legal_basis=spec.legal_basis,
        consult_phone=f"{department.phone}；{hotline}" if hotline else department.phone,
        supervise_phone=SUPERVISION_HOTLINE,
        location=spec.location or f"{department.address}（{department.name}窗口）",
        hours=spec.hours,
        materials=list(spec.materials),
        fees=list(spec.fees),
        faqs=[{"question": question, "answer": answer} for question, answer in spec.faqs],
        process=process_steps(spec),
        form_schema=form_schema,
        form_ui=form_ui,
        workflow=spec.workflow,
        version=1,
        status=ServiceItem.Status.PUBLISHED,
        effective_from=DEMO_EFFECTIVE_FROM,
        change_note=DEMO_CHANGE_NOTE,
        published_at=DEMO_PUBLISHED_AT,
    )


def _seed_items(departments: dict[str, Department], theme_ids: dict[str, int]) -> None:
    """Every demo item not yet in the catalogue (under any version), published as version 1."""
    existing = set(
        ServiceItem.objects.filter(basic_code__startswith=DEMO_BASIC_CODE_PREFIX).values_list(
            "implementation_code", flat=True
        )
    )
    new_items: list[ServiceItem] = []
    themes_of: dict[str, list[int]] = {}
    seen_codes: set[str] = set()
    for spec in ITEMS:
        unknown_themes = [slug for slug in spec.themes if slug not in theme_ids]
        if unknown_themes:
            raise DemoCatalogueError(f"demo item {spec.name!r}: unknown themes {unknown_themes}")
        form_schema, form_ui = form(spec.name, spec.fields, spec.optional_fields)
        for department_spec in implementing_departments(spec):
            item = _item(spec, departments[department_spec.uscc], form_schema, form_ui)
            if item.implementation_code in seen_codes:
                raise DemoCatalogueError(
                    f"demo item {spec.name!r}: implementation code {item.implementation_code} twice"
                )
            seen_codes.add(item.implementation_code)
            if item.implementation_code in existing:
                continue
            problems = item_problems(item, department=item.department)
            if problems:
                raise DemoCatalogueError(
                    f"demo item {spec.name!r} of {item.department.name} ({item.implementation_code}) "
                    f"is invalid: {problems}"
                )
            new_items.append(item)
            themes_of[item.implementation_code] = [theme_ids[slug] for slug in spec.themes]
    ServiceItem.objects.bulk_create(new_items, batch_size=500)
    item_ids = _ids_of(themes_of)
    ServiceItem.themes.through.objects.bulk_create(
        (
            ServiceItem.themes.through(serviceitem_id=item_ids[code], theme_id=theme_id)
            for code, theme_list in themes_of.items()
            for theme_id in theme_list
        ),
        batch_size=1000,
    )


def _ids_of(implementation_codes: Iterable[str]) -> dict[str, int]:
    wanted = set(implementation_codes)
    return {
        code: item_id
        for code, item_id in ServiceItem.objects.filter(
            basic_code__startswith=DEMO_BASIC_CODE_PREFIX, version=1
        ).values_list("implementation_code", "id")
        if code in wanted
    }


def _bundle_item_code(item_name: str, region_code: str) -> str:
    specs = [spec for spec in ITEMS if spec.name == item_name]
    if len(specs) != 1:
        raise DemoCatalogueError(f"demo bundle item {item_name!r} names {len(specs)} demo items, not one")
    spec = specs[0]
    department = next(
        (each for each in implementing_departments(spec) if each.region_code == region_code),
        None,
    )
    if department is None:
        raise DemoCatalogueError(f"demo bundle item {item_name!r} is not implemented in region {region_code}")
    level = region_level_of(region_code) or 0
    return implementation_code(department_uscc=department.uscc, level=level, basic_code=demo_basic_code(spec))


def _seed_bundles(theme_ids: dict[str, int]) -> None:
    existing = set(Bundle.objects.values_list("slug", flat=True))
    new = []
    for spec in BUNDLES:
        if spec.slug in existing:
            continue
        codes = [_bundle_item_code(name, region_code) for name, region_code in spec.items]
        found = set(
            ServiceItem.objects.published()
            .filter(implementation_code__in=codes)
            .values_list("implementation_code", flat=True)
        )
        if found != set(codes):
            raise DemoCatalogueError(f"demo bundle {spec.name}: items not published: {sorted(set(codes) - found)}")
        new.append(
            Bundle(
                slug=spec.slug,
                name=spec.name,
                audience=spec.audience,
                theme_id=theme_ids[spec.theme_slug],
                description=spec.description,
                item_codes=codes,
            )
        )
    Bundle.objects.bulk_create(new)


def _seed_synonyms() -> None:
    existing = set(Synonym.objects.values_list("term", flat=True))
    Synonym.objects.bulk_create(
        Synonym(term=term, expansions=expansions) for term, expansions in SYNONYMS if term not in existing
    )


# --- Synthetic items for load tests (seed_scale) ---

# Every synthetic basic code starts with 9 (no demo or real one does), so they can be counted and topped up.
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
        raise DemoCatalogueError("there are no departments: seed the demo catalogue first")
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
            raise DemoCatalogueError(f"synthetic items of type {key[0]} for {key[1]} are invalid: {problems}")
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
