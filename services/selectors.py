"""Reads of the catalogue, for pages, the API and other apps.

Facet counts are expensive at 100,000 items, so they are cached; the cache key
carries a catalogue generation number that every publication bumps, so a
changed catalogue is never shown with stale counts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from django.core.cache import cache
from django.db.models import Case, Count, F, IntegerField, Prefetch, Q, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils.translation import get_language

from core.errors import NotFound
from services.codes import REGION_OWN_DIGITS, RegionLevel, region_level_of
from services.models import (
    Audience,
    Bundle,
    Department,
    ItemType,
    OnlineDepth,
    Region,
    Section,
    ServiceItem,
    Theme,
)

FACET_CACHE_SECONDS = 600
GENERATION_KEY = "catalogue:generation"


def catalogue_generation() -> int:
    """A number that changes whenever the published catalogue changes."""
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        generation = cache.get(GENERATION_KEY, 1)
    return int(generation)


def catalogue_changed() -> None:
    """Invalidate every cached view of the catalogue (facet counts, region trees)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.add(GENERATION_KEY, 2, timeout=None)


@dataclass(frozen=True)
class CatalogueFilters:
    """The facets a visitor chose; every value already checked against its code set."""

    audience: str = ""
    theme: str = ""
    department: str = ""
    region: str = ""
    section: str = ""
    item_type: str = ""
    star: int | None = None
    fully_online: bool = False
    # One service (基本编码) as every region offers it: where a collapsed result's other regions are listed.
    basic_code: str = ""
    ignored: tuple[str, ...] = field(default=(), compare=False)

    FACETS = ("audience", "theme", "department", "region", "section", "item_type", "star", "fully_online")

    @classmethod
    def from_query(cls, params: dict[str, str]) -> CatalogueFilters:
        """Read the facets from a query string, dropping (and naming) values that are not codes."""
        ignored: list[str] = []

        def choice(name: str, allowed: Iterable[str]) -> str:
            value = (params.get(name) or "").strip()
            if value and value not in allowed:
                ignored.append(name)
                return ""
            return value

        def code(name: str, length: int, *, is_numeric: bool = False) -> str:
            value = (params.get(name) or "").strip()
            is_code = value.isascii() and (value.isdigit() if is_numeric else value.isalnum())
            if value and (len(value) != length or not is_code):
                ignored.append(name)
                return ""
            return value

        star_text = (params.get("star") or "").strip()
        star = int(star_text) if star_text in {"1", "2", "3", "4", "5"} else None
        if star_text and star is None:
            ignored.append("star")
        theme = (params.get("theme") or "").strip()
        if theme and not (theme.isascii() and theme.replace("-", "").replace("_", "").isalnum()):
            ignored.append("theme")
            theme = ""
        online = (params.get("online") or "").strip()
        if online not in {"", "1"}:
            ignored.append("online")
        return cls(
            audience=choice("audience", Audience.values),
            theme=theme,
            department=code("department", 18),
            region=code("region", 12, is_numeric=True),
            section=choice("section", Section.values),
            item_type=choice("item_type", ItemType.values),
            star=star,
            fully_online=online == "1",
            basic_code=code("basic_code", 12, is_numeric=True),
            ignored=tuple(sorted(ignored)),
        )

    def as_query(self) -> dict[str, str]:
        """The facets as query-string parameters (only those set)."""
        query = {
            "audience": self.audience,
            "theme": self.theme,
            "department": self.department,
            "region": self.region,
            "section": self.section,
            "item_type": self.item_type,
            "star": str(self.star) if self.star else "",
            "online": "1" if self.fully_online else "",
            "basic_code": self.basic_code,
        }
        return {key: value for key, value in query.items() if value}

    def without(self, facet: str) -> CatalogueFilters:
        default = CatalogueFilters()
        return replace(self, **{facet: getattr(default, facet)})

    @property
    def is_empty(self) -> bool:
        return not self.as_query()


def published_items() -> QuerySet[ServiceItem]:
    return ServiceItem.objects.published()


def _region_chain_codes(code: str) -> tuple[str, ...]:
    """The code of a region and of every region above it, by the parent links."""
    codes: list[str] = []
    region = Region.objects.filter(code=code).values("code", "parent__code").first()
    while region is not None:
        codes.append(region["code"])
        parent = region["parent__code"]
        region = Region.objects.filter(code=parent).values("code", "parent__code").first() if parent else None
    return tuple(codes)


def region_chain_codes(code: str) -> tuple[str, ...]:
    """A region and its ancestors (cached: regions change about once a decade)."""
    key = f"catalogue:region-chain:{catalogue_generation()}:{code}"
    chain = cache.get(key)
    if chain is None:
        chain = _region_chain_codes(code)
        if chain:  # an unknown code may become known: only real regions are kept
            cache.set(key, chain, timeout=24 * 3600)
    return tuple(chain)


def region_scope_codes(code: str) -> tuple[str, ...]:
    """The codes of the regions whose items a region shows: itself, those above it, and those below it with departments.

    Cached with the catalogue generation; empty for an unknown code. Only regions
    that have departments are listed below it, which keeps the list as short as
    the departments are many, whatever the number of towns and villages.
    """
    key = f"catalogue:region-scope:{catalogue_generation()}:{code}"
    scope = cache.get(key)
    if scope is None:
        chain = region_chain_codes(code)
        if not chain:
            return ()
        level = region_level_of(code)
        prefix = code[: REGION_OWN_DIGITS[RegionLevel(level)]] if level is not None else code
        below = (
            Department.objects.filter(region__code__startswith=prefix)
            .exclude(region__code__in=chain)
            .order_by("region__code")
            .values_list("region__code", flat=True)
            .distinct()
        )
        scope = (*chain, *below)
        cache.set(key, scope, timeout=24 * 3600)
    return tuple(scope)


# The levels a visitor chooses among and names in a search: province, city, county.
_CHOSEN_LEVELS = (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY)
# What a region's name ends with, left out when someone names it (西湖区 → 西湖); longest first.
_PLACE_SUFFIXES = ("自治县", "自治州", "省", "市", "区", "县")


@dataclass(frozen=True)
class RegionGroup:
    """A region to choose, with the regions below it (a city and its counties); codes and names."""

    code: str
    name: str
    below: tuple[tuple[str, str], ...]


def _regions_to_choose() -> list[tuple[str, str, int, str]]:
    """(code, name, level, parent code) of the provinces, cities and counties, by code (cached)."""
    key = f"catalogue:regions-to-choose:{catalogue_generation()}"
    regions = cache.get(key)
    if regions is None:
        rows = Region.objects.filter(level__in=_CHOSEN_LEVELS).order_by("code")
        regions = [
            (code, name, level, parent or "")
            for code, name, level, parent in rows.values_list("code", "name", "level", "parent__code")
        ]
        cache.set(key, regions, timeout=24 * 3600)
    return list(regions)


def region_groups() -> list[RegionGroup]:
    """What a visitor chooses their region from: each province alone, then each city with its counties."""
    regions = _regions_to_choose()
    below: dict[str, list[tuple[str, str]]] = {}
    for code, name, level, parent in regions:
        if level == RegionLevel.COUNTY:
            below.setdefault(parent, []).append((code, name))
    return [
        RegionGroup(code, name, tuple(below.get(code, ())))
        for code, name, level, _parent in regions
        if level in (RegionLevel.PROVINCE, RegionLevel.CITY)
    ]


def region_places() -> list[tuple[str, str]]:
    """(name, code) of every place a search may name, whole (西湖区) or without its suffix (西湖), longest first."""
    places: dict[str, str] = {}
    for code, name, _level, _parent in _regions_to_choose():
        places.setdefault(name, code)
        short = next((name[: -len(suffix)] for suffix in _PLACE_SUFFIXES if name.endswith(suffix)), "")
        if len(short) >= 2:
            places.setdefault(short, code)
    return sorted(places.items(), key=lambda place: (-len(place[0]), place[1]))


def region_name(code: str) -> str:
    """The name of a province, city or county by its code ('' for another code)."""
    return next((name for region_code, name, _level, _parent in _regions_to_choose() if region_code == code), "")


def filter_items(queryset: QuerySet[ServiceItem], filters: CatalogueFilters) -> QuerySet[ServiceItem]:
    """Apply the chosen facets.

    Choosing a region shows the items of departments in that region, in every
    region above it and in every region below it: a 西湖区 resident can use the
    items of 杭州市 and of 浙江省 as well as those of 西湖区, and choosing 杭州市
    shows what its districts offer too (结婚登记 is registered by the districts).
    """
    if filters.audience == Audience.PERSON:
        queryset = queryset.filter(for_persons=True)
    elif filters.audience == Audience.ENTERPRISE:
        queryset = queryset.filter(for_enterprises=True)
    if filters.theme:
        queryset = queryset.filter(themes__slug=filters.theme)
    if filters.department:
        queryset = queryset.filter(department__uscc=filters.department)
    if filters.region:
        # An unknown code has no scope: it matches nothing (an empty IN list would not compile into raw search SQL).
        scope = region_scope_codes(filters.region) or (filters.region,)
        queryset = queryset.filter(department__region__code__in=scope)
    if filters.section:
        queryset = queryset.filter(section=filters.section)
    if filters.item_type:
        queryset = queryset.filter(item_type=filters.item_type)
    if filters.star:
        queryset = queryset.filter(star_level=filters.star)
    if filters.fully_online:
        queryset = queryset.filter(online_depth=OnlineDepth.FULLY_ONLINE)
    if filters.basic_code:
        queryset = queryset.filter(basic_code=filters.basic_code)
    return queryset


# The long texts and the JSON of the guide, which no list shows: a page of 20 items reads
# and decodes several times less without them.
GUIDE_ONLY_FIELDS = (
    "summary",
    "conditions",
    "legal_basis",
    "location",
    "hours",
    "materials",
    "fees",
    "faqs",
    "process",
    "form_schema",
    "form_ui",
    "workflow",
    "change_note",
)


def list_items(filters: CatalogueFilters) -> QuerySet[ServiceItem]:
    """Published items for the list page and the API, in a stable order, without what only the guide shows.

    The order is the one the index services_item_published_list keeps, so a page
    is read from the index instead of sorting every item the facets let through.
    """
    return (
        filter_items(published_items(), filters)
        .select_related("department", "department__region")
        .defer(*GUIDE_ONLY_FIELDS)
        .order_by("-star_level", "implementation_code")
    )


def region_preference_sql(column: str, preferred_regions: Sequence[str]) -> tuple[str, list[str]]:
    """SQL ranking a row by where its region code stands among the preferred ones (0 first), for raw queries."""
    if not preferred_regions:
        return "0", []
    whens = " ".join(f"WHEN %s THEN {position}" for position in range(len(preferred_regions)))
    return f"CASE {column} {whens} ELSE {len(preferred_regions)} END", list(preferred_regions)


def one_per_service(queryset: QuerySet[ServiceItem], *, preferred_regions: Sequence[str]) -> QuerySet[ServiceItem]:
    """One item per service (基本编码) that many regions implement, in the queryset's order.

    The item kept is the one of the first preferred region (the visitor's own
    district, then the regions above it), else the one of the lowest region
    code. Each is annotated with ``implementations``: how many items of the
    queryset offer its service. Done in the database with window functions,
    however many regions offer a service; ``services.search`` keeps the same
    rule in its raw SQL (``region_preference_sql``).
    """
    preference = Case(
        *[When(department__region__code=code, then=Value(position)) for position, code in enumerate(preferred_regions)],
        default=Value(len(preferred_regions)),
        output_field=IntegerField(),
    )
    return queryset.annotate(
        place=Window(
            RowNumber(),
            partition_by=[F("basic_code")],
            order_by=[preference.asc(), F("department__region__code").asc(), F("pk").asc()],
        ),
        implementations=Window(Count("pk"), partition_by=[F("basic_code")]),
    ).filter(place=1)


def items_by_id(item_ids: list[int]) -> list[ServiceItem]:
    """These items as a list shows them, in the order given (an id with no item is left out)."""
    by_id = (
        ServiceItem.objects.select_related("department", "department__region")
        .defer(*GUIDE_ONLY_FIELDS)
        .in_bulk(item_ids)
    )
    return [by_id[item_id] for item_id in item_ids if item_id in by_id]


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    group: str = ""  # the heading it is listed under (a theme's audience), when the values come in groups


def _cache_key(prefix: str, filters: CatalogueFilters) -> str:
    raw = "&".join(f"{key}={value}" for key, value in sorted(filters.as_query().items()))
    digest = hashlib.sha256(raw.encode()).hexdigest()[:24]
    return f"catalogue:{prefix}:{catalogue_generation()}:{get_language()}:{digest}"


@dataclass(frozen=True)
class CatalogueCounts:
    """How many items the chosen facets show, and the counts of every facet's values."""

    total: int
    facets: dict[str, list[FacetValue]]
    # The cache key they are kept under: it names the facets, the language and the
    # catalogue generation, so what is rendered from them can be kept under it too.
    key: str


def catalogue_counts(filters: CatalogueFilters) -> CatalogueCounts:
    """The number of items the facets show and the facet counts, cached per combination and generation.

    Counting tens of thousands of items costs more than the rest of a list page,
    and the count changes only when the catalogue does.
    """
    key = _cache_key("listing", filters)
    counts = cache.get(key)
    if counts is None:
        counts = CatalogueCounts(
            total=filter_items(published_items(), filters).count(),
            facets=_compute_facet_counts(filters),
            key=key,
        )
        cache.set(key, counts, timeout=FACET_CACHE_SECONDS)
    return counts


def facet_counts(filters: CatalogueFilters) -> dict[str, list[FacetValue]]:
    """For each facet, its values with how many items each would show given the other facets (cached)."""
    return catalogue_counts(filters).facets


def _grouped(filters: CatalogueFilters, facet: str, column: str) -> dict[str, int]:
    rows = (
        filter_items(published_items(), filters.without(facet))
        .values(column)
        .annotate(n=Count("pk", distinct=True))
        .order_by()
    )
    return {str(row[column]): row["n"] for row in rows if row[column] is not None}


def _compute_facet_counts(filters: CatalogueFilters) -> dict[str, list[FacetValue]]:
    result: dict[str, list[FacetValue]] = {}

    base = filter_items(published_items(), filters.without("audience"))
    audience_counts = base.aggregate(
        person=Count("pk", filter=Q(for_persons=True), distinct=True),
        enterprise=Count("pk", filter=Q(for_enterprises=True), distinct=True),
    )
    result["audience"] = [FacetValue(value, str(label), audience_counts[value]) for value, label in Audience.choices]

    result["theme"] = _theme_facet(filters)

    department_counts = _grouped(filters, "department", "department__uscc")
    departments = Department.objects.filter(uscc__in=department_counts).order_by("region__code", "name")
    result["department"] = [
        FacetValue(department.uscc, department.name, department_counts[department.uscc]) for department in departments
    ]

    result["region"] = _region_facet(filters)

    section_counts = _grouped(filters, "section", "section")
    result["section"] = [
        FacetValue(value, str(label), section_counts[value])
        for value, label in Section.choices
        if value in section_counts
    ]
    type_counts = _grouped(filters, "item_type", "item_type")
    result["item_type"] = [
        FacetValue(value, str(label), type_counts[value]) for value, label in ItemType.choices if value in type_counts
    ]
    star_counts = _grouped(filters, "star", "star_level")
    result["star"] = [
        FacetValue(str(star), str(star), star_counts[str(star)]) for star in (5, 4, 3, 2, 1) if str(star) in star_counts
    ]
    online_count = filter_items(published_items(), replace(filters, fully_online=True)).count()
    result["fully_online"] = [FacetValue("1", "", online_count)]
    return result


def _theme_facet(filters: CatalogueFilters) -> list[FacetValue]:
    """The life events that have items given the other facets, each once: the chosen audience's only.

    An item for individuals and enterprises alike carries themes of both; under
    个人办事 only individuals' themes are offered. Without an audience both are,
    grouped by audience, since two may share a name (纳税缴费).
    """
    theme_counts = _grouped(filters, "theme", "themes__slug")
    themes = Theme.objects.filter(slug__in=theme_counts)
    if filters.audience:
        themes = themes.filter(audience=filters.audience)
    audience_labels = dict(Audience.choices)
    ordered = sorted(themes, key=lambda theme: (theme.audience != Audience.PERSON, theme.position, theme.slug))
    return [
        FacetValue(theme.slug, theme.name, theme_counts[theme.slug], group=str(audience_labels[theme.audience]))
        for theme in ordered
    ]


def _region_facet(filters: CatalogueFilters) -> list[FacetValue]:
    """The regions one can narrow to: the province and its cities, and the counties of a chosen city.

    A region's count includes the items of the regions above and below it, as filtering does.
    """
    per_region = _grouped(filters, "region", "department__region__code")
    chosen_chain = region_chain_codes(filters.region) if filters.region else ()
    regions = list(Region.objects.filter(level__in=[RegionLevel.PROVINCE, RegionLevel.CITY]).order_by("code"))
    chosen_city = next((code for code in chosen_chain if region_level_of(code) == RegionLevel.CITY), "")
    if chosen_city:
        regions += list(Region.objects.filter(parent__code=chosen_city).order_by("code"))
    values = []
    for region in regions:
        scope = region_scope_codes(region.code)
        values.append(FacetValue(region.code, region.name, sum(per_region.get(code, 0) for code in scope)))
    return values


def item_by_code(implementation_code: str) -> ServiceItem:
    """The published version of an entry, with what its guide shows; NotFound otherwise."""
    item = (
        published_items()
        .select_related("department", "department__region")
        .prefetch_related(Prefetch("themes", queryset=Theme.objects.order_by("position")))
        .filter(implementation_code=implementation_code)
        .first()
    )
    if item is None:
        raise NotFound("service item")
    return item


def bundles_with_item(implementation_code: str) -> list[Bundle]:
    """The 一件事 bundles an entry belongs to (few bundles: filtered here, the same on every database)."""
    return [bundle for bundle in active_bundles() if implementation_code in bundle.item_codes]


def active_bundles() -> list[Bundle]:
    return list(Bundle.objects.filter(is_active=True).select_related("theme").order_by("slug"))


def department_by_uscc(uscc: str) -> Department:
    department = Department.objects.select_related("region").filter(uscc=uscc).first()
    if department is None:
        raise NotFound("department")
    return department


def departments_by_region() -> list[tuple[Region, list[Department]]]:
    """Every department that has published items, grouped by its region, province first."""
    departments = (
        Department.objects.select_related("region")
        .annotate(item_count=Count("items", filter=Q(items__status=ServiceItem.Status.PUBLISHED)))
        .order_by("region__code", "name")
    )
    groups: dict[int, tuple[Region, list[Department]]] = {}
    for department in departments:
        groups.setdefault(department.region_id, (department.region, []))[1].append(department)
    return list(groups.values())


def themes_by_audience() -> dict[str, list[Theme]]:
    themes = Theme.objects.annotate(
        item_count=Count("items", filter=Q(items__status=ServiceItem.Status.PUBLISHED))
    ).order_by("position", "slug")
    grouped: dict[str, list[Theme]] = {Audience.PERSON: [], Audience.ENTERPRISE: []}
    for theme in themes:
        grouped.setdefault(theme.audience, []).append(theme)
    return grouped


def theme_by_slug(slug: str) -> Theme:
    theme = Theme.objects.filter(slug=slug).first()
    if theme is None:
        raise NotFound("theme")
    return theme


def items_of_bundle(bundle: Bundle) -> list[ServiceItem]:
    """The published items of a bundle, in the bundle's order."""
    items = {
        item.implementation_code: item
        for item in published_items().filter(implementation_code__in=bundle.item_codes).select_related("department")
    }
    return [items[code] for code in bundle.item_codes if code in items]


def power_list(filters: CatalogueFilters) -> QuerySet[ServiceItem]:
    """The published list of powers (事项类型 01–10) with legal basis and department."""
    return (
        filter_items(published_items(), filters)
        .exclude(item_type=ItemType.PUBLIC_SERVICE)
        .select_related("department", "department__region")
        .order_by("item_type", "department__region__code", "department__name", "implementation_code")
    )
