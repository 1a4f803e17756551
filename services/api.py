"""The catalogue over the API: services (list, search, guide), regions, departments, themes."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.http import urlencode
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api import StableCursorPagination
from services import search as search_engine
from services import selectors
from services.models import Department, Region, ServiceItem, Theme

SEARCH_PAGE_SIZE = 20


class RegionSerializer(serializers.ModelSerializer[Region]):
    # "parent" shadows an attribute of DRF's Field in the type stubs, not at run time.
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)  # type: ignore[assignment,var-annotated]

    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent"]


class DepartmentSerializer(serializers.ModelSerializer[Department]):
    region: serializers.SlugRelatedField[Region] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)

    class Meta:
        model = Department
        fields = ["uscc", "name", "short_name", "kind", "region", "region_name", "phone", "address"]


class ThemeSerializer(serializers.ModelSerializer[Theme]):
    class Meta:
        model = Theme
        fields = ["slug", "name", "audience", "description"]


class ServiceSummarySerializer(serializers.ModelSerializer[ServiceItem]):
    department = serializers.CharField(source="department.uscc", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    region = serializers.CharField(source="department.region.code", read_only=True)

    class Meta:
        model = ServiceItem
        fields = [
            "implementation_code", "basic_code", "name", "item_type", "served_parties", "handling_type",
            "legal_limit", "legal_limit_unit", "promised_limit", "promised_limit_unit", "visits", "star_level",
            "online_depth", "min_real_name_level", "section", "department", "department_name", "region", "version",
        ]  # fmt: skip


class ServiceGuideSerializer(ServiceSummarySerializer):
    themes = serializers.SlugRelatedField[Theme](slug_field="slug", many=True, read_only=True)
    workflow_summary = serializers.SerializerMethodField()

    class Meta(ServiceSummarySerializer.Meta):
        fields = [
            *ServiceSummarySerializer.Meta.fields,
            "aliases", "summary", "scope", "conditions", "legal_basis", "consult_phone", "supervise_phone",
            "location", "hours", "materials", "fees", "faqs", "process", "form_schema", "form_ui",
            "workflow_summary", "themes", "effective_from", "effective_to",
        ]  # fmt: skip

    def get_workflow_summary(self, item: ServiceItem) -> list[dict[str, Any]]:
        """The stages an application goes through: names and how many departments act in each."""
        stages = item.workflow.get("stages", []) if isinstance(item.workflow, dict) else []
        return [
            {
                "key": stage.get("key", ""),
                "parallel": len(stage.get("tasks", [])) > 1,
                "tasks": [task.get("name", "") for task in stage.get("tasks", [])],
            }
            for stage in stages
        ]


FILTER_PARAMETERS = [
    OpenApiParameter("q", OpenApiTypes.STR, description="Search words (Chinese, pinyin or initials); ranks results"),
    OpenApiParameter("audience", OpenApiTypes.STR, enum=["person", "enterprise"]),
    OpenApiParameter("theme", OpenApiTypes.STR, description="Theme slug"),
    OpenApiParameter("department", OpenApiTypes.STR, description="USCC of the implementing department"),
    OpenApiParameter("region", OpenApiTypes.STR, description="12-digit code; includes the regions above it"),
    OpenApiParameter("section", OpenApiTypes.STR, enum=["approval", "convenience", "transparency"]),
    OpenApiParameter("item_type", OpenApiTypes.STR, description="事项类型 code, e.g. 01"),
    OpenApiParameter("star", OpenApiTypes.INT),
    OpenApiParameter("online", OpenApiTypes.STR, enum=["1"], description="Only items that can be done fully online"),
    OpenApiParameter("page", OpenApiTypes.INT, description="Page number, with q only"),
]


class ServiceCursorPagination(StableCursorPagination):
    ordering = "implementation_code"


class ServiceList(generics.ListAPIView[ServiceItem]):
    """Published services, filtered like the catalogue page; with ``q``, ranked search results."""

    serializer_class = ServiceSummarySerializer
    pagination_class = ServiceCursorPagination

    def get_queryset(self) -> QuerySet[ServiceItem]:
        filters = selectors.CatalogueFilters.from_query(self.request.query_params.dict())
        return selectors.list_items(filters).order_by("implementation_code")

    @extend_schema(parameters=FILTER_PARAMETERS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = (request.query_params.get("q") or "").strip()
        if not query:
            return super().get(request, *args, **kwargs)
        return self._search(request, query)

    def _search(self, request: Request, query: str) -> Response:
        page_text = request.query_params.get("page", "1")
        page = int(page_text) if page_text.isdigit() and int(page_text) > 0 else 1
        filters = selectors.CatalogueFilters.from_query(request.query_params.dict())
        results = search_engine.search_items(
            query,
            queryset=selectors.filter_items(selectors.published_items(), filters),
            offset=(page - 1) * SEARCH_PAGE_SIZE,
            limit=SEARCH_PAGE_SIZE,
        )
        by_id = ServiceItem.objects.select_related("department", "department__region").in_bulk(results.item_ids)
        items = [by_id[item_id] for item_id in results.item_ids if item_id in by_id]

        def link(number: int) -> str:
            params = {**request.query_params.dict(), "page": str(number)}
            return request.build_absolute_uri(f"{request.path}?{urlencode(params)}")

        has_next = page * SEARCH_PAGE_SIZE < results.total
        return Response(
            {
                "count": results.total,
                "suggestion": results.suggestion,
                "next": link(page + 1) if has_next else None,
                "previous": link(page - 1) if page > 1 else None,
                "results": ServiceSummarySerializer(items, many=True).data,
            }
        )


class ServiceDetail(generics.RetrieveAPIView[ServiceItem]):
    """The full service guide, with the form's JSON Schema and UI hints."""

    serializer_class = ServiceGuideSerializer

    def get_object(self) -> ServiceItem:
        return selectors.item_by_code(self.kwargs["code"])


class RegionCursorPagination(StableCursorPagination):
    ordering = "code"


class RegionList(generics.ListAPIView[Region]):
    """Administrative divisions; ``parent`` and ``level`` narrow the list."""

    serializer_class = RegionSerializer
    pagination_class = RegionCursorPagination

    def get_queryset(self) -> QuerySet[Region]:
        regions = Region.objects.select_related("parent")
        parent = self.request.query_params.get("parent")
        level = self.request.query_params.get("level")
        if parent:
            regions = regions.filter(parent__code=parent)
        if level and level.isdigit():
            regions = regions.filter(level=int(level))
        return regions

    @extend_schema(
        parameters=[OpenApiParameter("parent", OpenApiTypes.STR), OpenApiParameter("level", OpenApiTypes.INT)]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class DepartmentCursorPagination(StableCursorPagination):
    ordering = "uscc"


class DepartmentList(generics.ListAPIView[Department]):
    """Departments; ``region`` (exact code) and ``kind`` narrow the list."""

    serializer_class = DepartmentSerializer
    pagination_class = DepartmentCursorPagination

    def get_queryset(self) -> QuerySet[Department]:
        departments = Department.objects.select_related("region")
        region = self.request.query_params.get("region")
        kind = self.request.query_params.get("kind")
        if region:
            departments = departments.filter(region__code=region)
        if kind:
            departments = departments.filter(kind=kind)
        return departments

    @extend_schema(
        parameters=[OpenApiParameter("region", OpenApiTypes.STR), OpenApiParameter("kind", OpenApiTypes.STR)]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class ThemeCursorPagination(StableCursorPagination):
    ordering = "slug"


class ThemeList(generics.ListAPIView[Theme]):
    """Life events for individuals and enterprises; ``audience`` narrows the list."""

    serializer_class = ThemeSerializer
    pagination_class = ThemeCursorPagination

    def get_queryset(self) -> QuerySet[Theme]:
        audience = self.request.query_params.get("audience")
        themes = Theme.objects.all()
        return themes.filter(audience=audience) if audience else themes

    @extend_schema(parameters=[OpenApiParameter("audience", OpenApiTypes.STR, enum=["person", "enterprise"])])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
