"""Load the demo catalogue: Zhejiang's regions and departments, themes, items, bundles and synonyms.

``seed_catalogue`` is idempotent: it creates what is missing, keyed by each row's
natural key (division code, credit code, slug, 实施编码, term), and never changes
a row that is already there, so running it twice changes nothing and an
administrator's edits survive a second run.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Exists, OuterRef

from demo.catalogue_data.bundles import BUNDLES
from demo.catalogue_data.departments import DEPARTMENTS, DEPARTMENTS_BY_KEY, HOTLINES, KIND_NUMBERS, DepartmentSpec
from demo.catalogue_data.fields import form
from demo.catalogue_data.items import ITEMS
from demo.catalogue_data.parts import (
    CITY,
    COUNTY,
    EVERYWHERE,
    MAIN,
    PROVINCE,
    ItemSpec,
    process_steps,
)
from demo.catalogue_data.regions import (
    CITY_CODES,
    COUNTY_CODES,
    HANGZHOU_CODE,
    PROVINCE_CODE,
    REGIONS,
    XIHU_CODE,
)
from demo.catalogue_data.synonyms import SYNONYMS
from demo.catalogue_data.themes import THEMES
from services.actions import catalogue_updated
from services.codes import RegionLevel, implementation_code, parent_region_code, region_level_of
from services.models import (
    Bundle,
    Department,
    Region,
    ServiceItem,
    ServiceSearchToken,
    Synonym,
    Theme,
)
from services.validation import bundle_order_problems, item_problems, served_party_flags

DEMO_EFFECTIVE_FROM = datetime.date(2026, 1, 1)
# Midnight of 2026-01-01 in Asia/Shanghai, so every run writes the same value.
DEMO_PUBLISHED_AT = datetime.datetime(2025, 12, 31, 16, 0, tzinfo=datetime.UTC)
DEMO_CHANGE_NOTE = "首次发布（演示目录）"
# Every demo basic code starts with these digits; synthetic items (bench.scale) start with 9.
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
            document_code=spec.document_code,
            kind=spec.kind,
            region_id=region_ids[spec.region_code],
            phone=spec.phone,
            address=spec.address,
            description=spec.description,
        )
        for spec in DEPARTMENTS
        if spec.uscc not in existing
    )
    # A demo seeded before departments had a 机关代字 gets one; one an admin has set is kept.
    codes = {spec.uscc: spec.document_code for spec in DEPARTMENTS}
    uncoded = list(Department.objects.filter(uscc__in=usccs, document_code=""))
    for department in uncoded:
        department.document_code = codes[department.uscc]
    Department.objects.bulk_update(uncoded, ["document_code"])
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
        min_real_name_level=spec.real_name_level,
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
        code_of = {name: _bundle_item_code(name, region_code) for name, region_code in spec.items}
        codes = list(code_of.values())
        found = set(
            ServiceItem.objects.published()
            .filter(implementation_code__in=codes)
            .values_list("implementation_code", flat=True)
        )
        if found != set(codes):
            raise DemoCatalogueError(f"demo bundle {spec.name}: items not published: {sorted(set(codes) - found)}")
        depends_on = {code_of[name]: [code_of[each] for each in waits] for name, waits in spec.waits_for}
        founding = code_of[spec.founding] if spec.founding else ""
        problems = bundle_order_problems(codes, depends_on, founding)
        if problems:
            raise DemoCatalogueError(f"demo bundle {spec.name}: {problems}")
        new.append(
            Bundle(
                slug=spec.slug,
                name=spec.name,
                audience=spec.audience,
                theme_id=theme_ids[spec.theme_slug],
                description=spec.description,
                item_codes=codes,
                depends_on=depends_on,
                founding_item_code=founding,
            )
        )
    Bundle.objects.bulk_create(new)


def _seed_synonyms() -> None:
    existing = set(Synonym.objects.values_list("term", flat=True))
    Synonym.objects.bulk_create(
        Synonym(term=term, expansions=expansions) for term, expansions in SYNONYMS if term not in existing
    )
