"""Pages of the catalogue (统一导航): the list with facets, guides, departments, themes, power list, search."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.page_cache import cache_public_page
from services import region_choice, selectors
from services import search as search_engine
from services.models import Audience
from services.search_text import find_place

PAGE_SIZE = 20


def _page(request: HttpRequest, object_list: Any, per_page: int = PAGE_SIZE) -> Page:
    paginator = Paginator(object_list, per_page)
    return paginator.get_page(request.GET.get("page"))


class _CountedPaginator(Paginator):
    """A paginator that is told how many items there are (a cached count) instead of counting them."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    filters = selectors.CatalogueFilters.from_query(request.GET.dict())
    counts = selectors.catalogue_counts(filters)
    paginator = _CountedPaginator(selectors.list_items(filters), PAGE_SIZE, count=counts.total)
    context = {
        "filters": filters,
        "facets": counts.facets,
        "facets_key": counts.key,
        "facets_seconds": selectors.FACET_CACHE_SECONDS,
        "page": paginator.get_page(request.GET.get("page")),
        "audience_title": dict(Audience.choices).get(filters.audience),
    }
    return render(request, "services/catalogue.html", context)


@require_GET
@cache_public_page(selectors.GENERATION_KEY, selectors.catalogue_generation)
def guide(request: HttpRequest, code: str) -> HttpResponse:
    item = selectors.item_by_code(code)
    context = {
        "item": item,
        "bundles": selectors.bundles_with_item(item.implementation_code),
        "required_materials": [material for material in item.materials if material.get("required")],
    }
    return render(request, "services/guide.html", context)


@require_GET
def departments(request: HttpRequest) -> HttpResponse:
    return render(request, "services/departments.html", {"groups": selectors.departments_by_region()})


@require_GET
def department(request: HttpRequest, uscc: str) -> HttpResponse:
    shop = selectors.department_by_uscc(uscc)
    filters = selectors.CatalogueFilters(department=shop.uscc)
    counts = selectors.catalogue_counts(filters)
    paginator = _CountedPaginator(selectors.list_items(filters), PAGE_SIZE, count=counts.total)
    context = {
        "department": shop,
        "page": paginator.get_page(request.GET.get("page")),
        "type_counts": counts.facets["item_type"],
    }
    return render(request, "services/department.html", context)


@require_GET
def themes(request: HttpRequest) -> HttpResponse:
    grouped = selectors.themes_by_audience()
    context = {
        "person_themes": grouped.get(Audience.PERSON, []),
        "enterprise_themes": grouped.get(Audience.ENTERPRISE, []),
        "bundles": selectors.active_bundles(),
    }
    return render(request, "services/themes.html", context)


@require_GET
def theme(request: HttpRequest, slug: str) -> HttpResponse:
    life_event = selectors.theme_by_slug(slug)
    choice = region_choice.choose_region(request)
    filters = selectors.CatalogueFilters(theme=life_event.slug, region=choice.code)
    items = selectors.one_per_service(selectors.list_items(filters), preferred_regions=choice.preferred_regions)
    bundles = [bundle for bundle in selectors.active_bundles() if bundle.theme_id == life_event.pk]
    context = {
        "theme": life_event,
        "page": _page(request, items),
        "bundles": [(bundle, selectors.items_of_bundle(bundle)) for bundle in bundles],
        **_region_context(choice, every_region_url="?region="),
    }
    response = render(request, "services/theme.html", context)
    region_choice.remember_region(request, response, choice)
    return response


def _region_context(choice: region_choice.RegionChoice, *, every_region_url: str) -> dict[str, Any]:
    """What the region form and the sentence on the chosen region show."""
    return {
        "region_choice": choice,
        "region_groups": selectors.region_groups(),
        "region_name": selectors.region_name(choice.code),
        "every_region_url": every_region_url,
    }


POWER_LIST_COLUMNS = (
    ("implementation_code", "实施编码"),
    ("basic_code", "基本编码"),
    ("name", "事项名称"),
    ("item_type", "事项类型"),
    ("department", "实施主体"),
    ("region", "行政区划"),
    ("legal_basis", "设定依据"),
)


def _power_list_rows(items: Any) -> Iterator[list[str]]:
    yield [title for _field, title in POWER_LIST_COLUMNS]
    for item in items.iterator(chunk_size=2000):
        yield [
            item.implementation_code,
            item.basic_code,
            item.name,
            f"{item.item_type} {item.get_item_type_display()}",
            item.department.name,
            item.department.region.name,
            item.legal_basis,
        ]


class _Echo:
    """A file-like object that hands back what is written, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


@require_GET
def power_list(request: HttpRequest) -> HttpResponseBase:
    filters = selectors.CatalogueFilters.from_query(request.GET.dict())
    items = selectors.power_list(filters)
    if request.GET.get("format") == "csv":
        writer = csv.writer(_Echo())
        rows = (writer.writerow(row) for row in _power_list_rows(items))
        response = StreamingHttpResponse(_with_bom(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="power-list.csv"'
        return response
    context = {
        "filters": filters,
        "facets": selectors.facet_counts(filters),
        "page": _page(request, items, per_page=50),
        "csv_query": urlencode({**filters.as_query(), "format": "csv"}),
        "power_types": [value for value in selectors.facet_counts(filters)["item_type"] if value.value != "20"],
    }
    return render(request, "services/power_list.html", context)


def _with_bom(rows: Iterator[str]) -> Iterator[str]:
    yield "\ufeff"  # so that spreadsheet programs read the Chinese text as UTF-8
    yield from rows


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = (request.GET.get("q") or "").strip()
    filters = selectors.CatalogueFilters.from_query(request.GET.dict())
    place = find_place(query, selectors.region_places()) if query else None
    choice = region_choice.choose_region(request, place_code=place.code if place else "")
    filters = replace(filters, region=choice.code)
    paginator_page = max(1, int(request.GET["page"])) if request.GET.get("page", "").isdigit() else 1
    offset = (paginator_page - 1) * PAGE_SIZE
    searched = place.rest if place else query
    results = search_engine.cached_search_items(
        searched,
        queryset=selectors.filter_items(selectors.published_items(), filters),
        offset=offset,
        limit=PAGE_SIZE,
        one_per_service=choice.preferred_regions,
    )
    items = selectors.items_by_id(results.item_ids)
    for item in items:
        # As selectors.one_per_service annotates them: the list says how many regions offer the service.
        item.implementations = results.implementations.get(item.pk, 1)  # type: ignore[attr-defined]
    page_count = max(1, -(-results.total // PAGE_SIZE))
    context = {
        "query": query,
        "place": place,
        "filters": filters,
        "is_ignored": bool(filters.ignored) or choice.is_ignored,
        "items": items,
        "total": results.total,
        "suggestion": results.suggestion,
        "page_number": paginator_page,
        "page_count": page_count,
        "has_next": paginator_page < page_count,
        "has_previous": paginator_page > 1,
        "too_long": len(query) > 50,
        "empty_message": _("Enter what you are looking for, for example 结婚登记 or 社保卡."),
        **_region_context(choice, every_region_url="?" + urlencode({"q": searched, "region": ""})),
    }
    response = render(request, "services/search.html", context)
    region_choice.remember_region(request, response, choice)
    return response
