"""The catalogue over the API: services (list, search, guide), regions, departments, themes."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import ErrorSerializer, StableCursorPagination, query_parameters
from services import search as search_engine
from services import selectors
from services.codes import RegionLevel
from services.models import Audience, Department, DepartmentKind, ItemType, Region, Section, ServiceItem, Theme

SEARCH_PAGE_SIZE = 20


class RegionSerializer(serializers.ModelSerializer[Region]):
    # "parent" shadows an attribute of DRF's Field in the type stubs, not at run time.
    # null for the root of the tree (the nation).
    parent = serializers.SlugRelatedField(  # type: ignore[assignment,var-annotated]
        slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent"]


class DepartmentSerializer(serializers.ModelSerializer[Department]):
    region: serializers.SlugRelatedField[Region] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)

    class Meta:
        model = Department
        fields = ["uscc", "name", "short_name", "kind", "region", "region_name", "phone", "address"]


class DepartmentReferenceSerializer(serializers.Serializer[Department]):
    """A department wherever another object names it (an application, a task, a bundle, a power): the one shape."""

    code = serializers.CharField(source="uscc", help_text="统一社会信用代码 (USCC) of the department")
    name = serializers.CharField()


def department_reference(*, uscc: str, name: str) -> dict[str, str]:
    """What DepartmentReferenceSerializer writes, for lists that read columns instead of model instances."""
    return {"code": str(uscc), "name": str(name)}


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
    OpenApiParameter("audience", OpenApiTypes.STR, enum=Audience.values),
    OpenApiParameter("theme", OpenApiTypes.STR, pattern=r"^[-\w]*$", description="Theme slug"),
    OpenApiParameter(
        "department", OpenApiTypes.STR, pattern=r"^[0-9A-Za-z]{18}$", description="USCC of the implementing department"
    ),
    OpenApiParameter(
        "region",
        OpenApiTypes.STR,
        pattern=r"^[0-9]{12}$",
        description="12-digit code; includes the regions above it",
    ),
    OpenApiParameter("section", OpenApiTypes.STR, enum=Section.values),
    OpenApiParameter("item_type", OpenApiTypes.STR, enum=ItemType.values, description="事项类型 code, e.g. 01"),
    OpenApiParameter("star", OpenApiTypes.INT, enum=[1, 2, 3, 4, 5]),
    OpenApiParameter("online", OpenApiTypes.STR, enum=["1"], description="Only items that can be done fully online"),
    OpenApiParameter("page", OpenApiTypes.INT, description="Page number, with q only (from 1)"),
]
INVALID = OpenApiResponse(ErrorSerializer, description="A filter's value is not valid; `fields` names it")


def catalogue_filters(request: Request) -> selectors.CatalogueFilters:
    """The catalogue's facets from the query; a value that is not one of its codes is a 400 naming the parameter."""
    filters = selectors.CatalogueFilters.from_query(request.query_params.dict())
    if filters.ignored:
        raise exceptions.ValidationError({name: [_("Not a valid value for this filter.")] for name in filters.ignored})
    return filters


class ServiceCursorPagination(StableCursorPagination):
    ordering = "implementation_code"


class ServiceList(generics.ListAPIView[ServiceItem]):
    """Published services, filtered like the catalogue page; with ``q``, ranked search results."""

    serializer_class = ServiceSummarySerializer
    pagination_class = ServiceCursorPagination

    def get_queryset(self) -> QuerySet[ServiceItem]:
        return selectors.list_items(catalogue_filters(self.request)).order_by("implementation_code")

    @extend_schema(parameters=FILTER_PARAMETERS, responses={200: ServiceSummarySerializer(many=True), 400: INVALID})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = (request.query_params.get("q") or "").strip()
        if not query:
            return super().get(request, *args, **kwargs)
        return self._search(request, query)

    def _search(self, request: Request, query: str) -> Response:
        page_text = request.query_params.get("page", "") or "1"
        if not (page_text.isascii() and page_text.isdigit() and int(page_text) > 0):
            raise exceptions.ValidationError({"page": [_("Give a page number from 1.")]})
        page = int(page_text)
        filters = catalogue_filters(request)
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


class PowerSerializer(serializers.ModelSerializer[ServiceItem]):
    """One entry of the list of powers (权力清单): what the department may do, on which legal basis."""

    item_type_display = serializers.CharField(source="get_item_type_display", read_only=True)
    department = DepartmentReferenceSerializer(read_only=True)
    region = serializers.CharField(source="department.region.code", read_only=True, help_text="12-digit code")
    region_name = serializers.CharField(source="department.region.name", read_only=True)

    class Meta:
        model = ServiceItem
        fields = [
            "implementation_code", "basic_code", "name", "item_type", "item_type_display", "department", "region",
            "region_name", "legal_basis", "legal_limit", "legal_limit_unit", "version",
        ]  # fmt: skip
        read_only_fields = fields


POWER_TYPES = [value for value in ItemType.values if value != ItemType.PUBLIC_SERVICE]
POWER_PARAMETERS = [
    OpenApiParameter(
        "department", OpenApiTypes.STR, pattern=r"^[0-9A-Za-z]{18}$", description="USCC of the implementing department"
    ),
    OpenApiParameter(
        "item_type", OpenApiTypes.STR, enum=POWER_TYPES, description="事项类型 code, 01 行政许可 … 10 其他行政权力"
    ),
    OpenApiParameter(
        "region", OpenApiTypes.STR, pattern=r"^[0-9]{12}$", description="12-digit code; includes the regions above it"
    ),
]


class PowerList(generics.ListAPIView[ServiceItem]):
    """权力清单: the published powers (事项类型 01–10, public services left out) as the power-list page lists them.

    Filtered as that page is, by department, type and region; in 实施编码 order.
    """

    serializer_class = PowerSerializer
    pagination_class = ServiceCursorPagination

    def get_queryset(self) -> QuerySet[ServiceItem]:
        filters = catalogue_filters(self.request)
        if filters.item_type == ItemType.PUBLIC_SERVICE:
            raise exceptions.ValidationError({"item_type": [_("Public services are not on the list of powers.")]})
        return selectors.power_list(filters)

    @extend_schema(parameters=POWER_PARAMETERS, responses={200: PowerSerializer(many=True), 400: INVALID})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


REGION_CODE = r"^[0-9]{12}$"


class RegionFilterSerializer(serializers.Serializer[Any]):
    """The regions list's filters (query parameters); an empty value is no filter."""

    # "parent" shadows an attribute of DRF's Field in the type stubs, as in RegionSerializer.
    parent = serializers.RegexField(  # type: ignore[assignment]
        REGION_CODE, required=False, allow_blank=True, help_text="12-digit code"
    )
    level = serializers.ChoiceField(
        choices=[str(value) for value in RegionLevel.values],
        required=False,
        allow_blank=True,
        help_text="1 国家 2 省 3 市 4 县 5 乡镇 6 村",
    )


class DepartmentFilterSerializer(serializers.Serializer[Any]):
    """The departments list's filters (query parameters); an empty value is no filter."""

    region = serializers.RegexField(REGION_CODE, required=False, allow_blank=True, help_text="12-digit code")
    kind = serializers.ChoiceField(choices=DepartmentKind.values, required=False, allow_blank=True)


class ThemeFilterSerializer(serializers.Serializer[Any]):
    """The themes list's filter (query parameter); an empty value is no filter."""

    audience = serializers.ChoiceField(choices=Audience.values, required=False, allow_blank=True)


class RegionCursorPagination(StableCursorPagination):
    ordering = "code"


class RegionList(generics.ListAPIView[Region]):
    """Administrative divisions; ``parent`` and ``level`` narrow the list."""

    serializer_class = RegionSerializer
    pagination_class = RegionCursorPagination

    def get_queryset(self) -> QuerySet[Region]:
        query = query_parameters(RegionFilterSerializer, self.request)
        regions = Region.objects.select_related("parent")
        if query.get("parent"):
            regions = regions.filter(parent__code=query["parent"])
        if query.get("level"):
            regions = regions.filter(level=int(query["level"]))
        return regions

    @extend_schema(parameters=[RegionFilterSerializer], responses={200: RegionSerializer(many=True), 400: INVALID})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class DepartmentCursorPagination(StableCursorPagination):
    ordering = "uscc"


class DepartmentList(generics.ListAPIView[Department]):
    """Departments; ``region`` (exact code) and ``kind`` narrow the list."""

    serializer_class = DepartmentSerializer
    pagination_class = DepartmentCursorPagination

    def get_queryset(self) -> QuerySet[Department]:
        query = query_parameters(DepartmentFilterSerializer, self.request)
        departments = Department.objects.select_related("region")
        if query.get("region"):
            departments = departments.filter(region__code=query["region"])
        if query.get("kind"):
            departments = departments.filter(kind=query["kind"])
        return departments

    @extend_schema(
        parameters=[DepartmentFilterSerializer], responses={200: DepartmentSerializer(many=True), 400: INVALID}
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
        audience = query_parameters(ThemeFilterSerializer, self.request).get("audience")
        themes = Theme.objects.all()
        return themes.filter(audience=audience) if audience else themes

    @extend_schema(parameters=[ThemeFilterSerializer], responses={200: ThemeSerializer(many=True), 400: INVALID})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
