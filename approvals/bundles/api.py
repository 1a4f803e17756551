"""一件事 bundles over the API: the bundles offered, and the applicant's bundle applications (start, fill, submit).

The same actions as the bundle pages (``approvals.bundles.actions``): one form for
every item, each material once, one submission that gives each item's child
application its own number and query password. Bundle applications are found
through ``bundles_for_owner`` (someone else's is a 404); errors are the portal's
one error body, and a real-name level too low carries ``upgrade_url`` as for a
single application.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, generics, mixins, permissions, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from approvals.applications import answer_privacy, rules
from approvals.applications.api import (
    ERRORS,
    IDEMPOTENCY_PARAMETER,
    REAL_NAME_ERROR,
    Applicant,
    ApplicationCursorPagination,
    ApplicationDataSerializer,
    ApplicationSummarySerializer,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    MaterialStateSerializer,
    enterprise_acting_for,
    idempotency_key,
)
from approvals.bundles import actions, selectors
from approvals.materials import material_states_of, materials_of_items
from approvals.models import BundleApplication
from core.api import StableCursorPagination
from services import selectors as service_selectors
from services.api import DepartmentReferenceSerializer
from services.models import Bundle, ServiceItem

# --- Serializers: the bundles offered ---------------------------------------------


class BundleSummarySerializer(serializers.ModelSerializer[Bundle]):
    """A 一件事 bundle as the list shows it."""

    theme = serializers.SlugRelatedField[Any](slug_field="slug", read_only=True, allow_null=True)
    item_codes = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="实施编码 of its items, in the bundle's order"
    )

    class Meta:
        model = Bundle
        fields = ["slug", "name", "audience", "theme", "description", "item_codes"]
        read_only_fields = fields


class BundleItemSerializer(serializers.ModelSerializer[ServiceItem]):
    """One item of a bundle: what it is and which department decides it."""

    code = serializers.CharField(source="implementation_code", read_only=True)
    department = DepartmentReferenceSerializer(read_only=True)

    class Meta:
        model = ServiceItem
        fields = ["code", "name", "item_type", "department", "min_real_name_level", "promised_limit", "legal_limit"]
        read_only_fields = fields


class BundleMaterialSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    required = serializers.BooleanField(  # type: ignore[assignment]  # shadows Field.required in the stubs only
        help_text="true when any item of the bundle requires it"
    )


class BundleDetailSerializer(BundleSummarySerializer):
    """One bundle whole: its published items, each material once, the real-name level applying needs."""

    items = serializers.SerializerMethodField()
    materials = serializers.SerializerMethodField()
    min_real_name_level = serializers.SerializerMethodField()

    class Meta(BundleSummarySerializer.Meta):
        fields = [*BundleSummarySerializer.Meta.fields, "items", "materials", "min_real_name_level"]
        read_only_fields = fields

    def _items(self, bundle: Bundle) -> list[ServiceItem]:
        return list(self.context["items"])

    @extend_schema_field(BundleItemSerializer(many=True))
    def get_items(self, bundle: Bundle) -> Any:
        return BundleItemSerializer(self._items(bundle), many=True).data

    @extend_schema_field(BundleMaterialSerializer(many=True))
    def get_materials(self, bundle: Bundle) -> Any:
        return BundleMaterialSerializer(
            [{**entry, "required": bool(entry.get("required"))} for entry in materials_of_items(self._items(bundle))],
            many=True,
        ).data

    @extend_schema_field(
        serializers.IntegerField(help_text="the highest level any item needs (1 初级实名 … 3 高级实名)")
    )
    def get_min_real_name_level(self, bundle: Bundle) -> int:
        return max((rules.needed_level(item) for item in self._items(bundle)), default=0)


# --- Serializers: my bundle applications ------------------------------------------


class BundleReferenceSerializer(serializers.ModelSerializer[Bundle]):
    class Meta:
        model = Bundle
        fields = ["slug", "name"]
        read_only_fields = fields


class BundleApplicationSummarySerializer(serializers.ModelSerializer[BundleApplication]):
    """A bundle application of mine as a list shows it."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    bundle = BundleReferenceSerializer(read_only=True)
    status = serializers.ChoiceField(choices=BundleApplication.Status.choices, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    acting_for = serializers.CharField(
        source="acting_for.uscc", read_only=True, allow_null=True, help_text="USCC of the enterprise, or null"
    )

    class Meta:
        model = BundleApplication
        fields = [
            "id", "bundle", "status", "status_display", "acting_for", "created_at", "updated_at", "submitted_at",
            "completed_at",
        ]  # fmt: skip
        read_only_fields = fields


class BundleEventSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    text = serializers.CharField(help_text="the item's name and what happened")
    item_name = serializers.CharField()
    department = serializers.CharField(source="department.name", allow_null=True, default=None)
    note = serializers.CharField()


class BundleApplicationDetailSerializer(BundleApplicationSummarySerializer):
    """One bundle application whole: the shared answers, each material once, one child application per item.

    Each child is an ordinary application (``/api/v1/applications/<id>/``) with its own number,
    query password, department and deadlines once submitted.
    """

    data = serializers.SerializerMethodField(  # type: ignore[assignment]  # shadows Serializer.data in the stubs only
        help_text="the shared answers, by field code; another person's ID number masked for anyone but the applicant"
    )
    prefilled = serializers.JSONField(read_only=True, help_text="field code → registry it was filled from")
    materials = serializers.SerializerMethodField()
    children = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()

    class Meta(BundleApplicationSummarySerializer.Meta):
        fields = [
            *BundleApplicationSummarySerializer.Meta.fields,
            "data",
            "prefilled",
            "materials",
            "children",
            "timeline",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_data(self, bundle: BundleApplication) -> Any:
        return answer_privacy.masked_for_viewer(
            bundle.data,
            form_uis=[child.service.form_ui for child in self.context["children"]],
            applicant_id=bundle.applicant_id,
            viewer=self.context["viewer"],
        )

    @extend_schema_field(MaterialStateSerializer(many=True))
    def get_materials(self, bundle: BundleApplication) -> Any:
        return MaterialStateSerializer(material_states_of(self.context["children"]), many=True).data

    @extend_schema_field(ApplicationSummarySerializer(many=True))
    def get_children(self, bundle: BundleApplication) -> Any:
        return ApplicationSummarySerializer(self.context["children"], many=True).data

    @extend_schema_field(BundleEventSerializer(many=True))
    def get_timeline(self, bundle: BundleApplication) -> Any:
        return BundleEventSerializer(selectors.bundle_timeline(bundle), many=True).data


class BundleStartSerializer(serializers.Serializer[Any]):
    acting_for = serializers.CharField(
        max_length=18, required=False, allow_null=True, allow_blank=True, help_text="USCC of the enterprise, or null"
    )


# --- Views: the bundles offered ---------------------------------------------------


class BundleCursorPagination(StableCursorPagination):
    ordering = "slug"


class BundleList(generics.ListAPIView[Bundle]):
    """The 一件事 bundles offered now, by slug; no login needed."""

    serializer_class = BundleSummarySerializer
    pagination_class = BundleCursorPagination
    permission_classes = [permissions.AllowAny]

    def get_queryset(self) -> QuerySet[Bundle]:
        return Bundle.objects.filter(is_active=True).select_related("theme")


class BundleDetail(APIView):
    """One bundle offered now: its published items, materials and the real-name level needed; no login needed."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={200: BundleDetailSerializer, 404: ERRORS[404]})
    def get(self, request: Request, slug: str) -> Response:
        bundle = selectors.active_bundle(slug)
        context = {"items": service_selectors.items_of_bundle(bundle)}
        return Response(BundleDetailSerializer(bundle, context=context).data)


# --- Views: my bundle applications ------------------------------------------------


class BundleApplicantView(Applicant, generics.GenericAPIView[BundleApplication]):
    """My bundle applications: signed in, scoped to me (404 for anyone else's), the upgrade link on a level refusal."""

    def bundle(self) -> BundleApplication:
        return selectors.bundle_for_owner(self.request.user, str(self.kwargs["bundle_id"]))

    def bundle_detail(self, bundle: BundleApplication, *, status_code: int = status.HTTP_200_OK) -> Response:
        """The bundle as it is now, read again through the selector; a draft's children on their items' versions now."""
        current = selectors.bundle_for_owner(self.request.user, str(bundle.public_id))
        children = actions.bundle_draft_children(current) if current.is_draft else selectors.bundle_children(current)
        context = {"children": children, "viewer": self.user()}
        data = BundleApplicationDetailSerializer(current, context=context).data
        return Response(data, status=status_code)


class BundleStart(BundleApplicantView):
    """Start one draft for every item of a bundle, prefilled from the registries (as the bundle's start page)."""

    serializer_class = BundleStartSerializer

    @extend_schema(
        request=BundleStartSerializer,
        responses={201: BundleApplicationDetailSerializer, 400: ERRORS[400], 403: REAL_NAME_ERROR, 404: ERRORS[404]},
        description="400 service_not_applicable or service_not_found when an item cannot be applied for online now; "
        "403 when an item needs a higher real-name level or an authorisation the user lacks (the message names it).",
    )
    def post(self, request: Request, slug: str) -> Response:
        serializer = BundleStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = self.user()
        acting_for = enterprise_acting_for(user, serializer.validated_data.get("acting_for") or "")
        bundle = actions.bundle_draft_start(user=user, slug=slug, acting_for=acting_for)
        return self.bundle_detail(bundle, status_code=status.HTTP_201_CREATED)


class BundleApplicationList(mixins.ListModelMixin, BundleApplicantView):
    """My bundle applications (drafts included), newest first."""

    serializer_class = BundleApplicationSummarySerializer
    pagination_class = ApplicationCursorPagination

    def get_queryset(self) -> QuerySet[BundleApplication]:
        bundles = selectors.bundles_for_owner(self.request.user)
        wanted = self.request.query_params.get("status", "").strip()
        if wanted and wanted not in BundleApplication.Status.values:
            raise exceptions.ValidationError({"status": [_("No such status: %(status)s.") % {"status": wanted}]})
        return bundles.filter(status=wanted) if wanted else bundles

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=BundleApplication.Status.values, description="only this status")
        ],
        responses={200: BundleApplicationSummarySerializer(many=True), 400: ERRORS[400]},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)


class BundleApplicationDetail(BundleApplicantView):
    """One bundle application of mine; a draft's answers are saved with PATCH (into every item that asks them)."""

    @extend_schema(responses={200: BundleApplicationDetailSerializer, 404: ERRORS[404]})
    def get(self, request: Request, bundle_id: str) -> Response:
        return self.bundle_detail(self.bundle())

    @extend_schema(
        request=ApplicationDataSerializer,
        responses={200: BundleApplicationDetailSerializer, 400: ERRORS[400], 404: ERRORS[404], 409: ERRORS[409]},
        description="Each given answer is checked by every item that asks it; one wrong answer changes nothing.",
    )
    def patch(self, request: Request, bundle_id: str) -> Response:
        serializer = ApplicationDataSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        bundle = actions.bundle_draft_update(
            bundle_id=self.bundle().pk, user=self.user(), data=serializer.validated_data["data"]
        )
        return self.bundle_detail(bundle)

    @extend_schema(
        responses={204: OpenApiResponse(description="Deleted"), 404: ERRORS[404], 409: ERRORS[409]},
        description="Throw a draft away, with its items' drafts and their files.",
    )
    def delete(self, request: Request, bundle_id: str) -> Response:
        actions.bundle_draft_delete(bundle_id=self.bundle().pk, user=self.user())
        return Response(status=status.HTTP_204_NO_CONTENT)


class BundleApplicationAttachments(BundleApplicantView):
    """A file for a material (or a file field) of a bundle draft: one checked copy for every item that needs it."""

    serializer_class = AttachmentUploadSerializer
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={
            201: AttachmentSerializer(many=True),
            400: ERRORS[400],
            404: ERRORS[404],
            409: ERRORS[409],
        },
        description="Checked as a single application's upload; the answer lists the copy each item keeps.",
    )
    def post(self, request: Request, bundle_id: str) -> Response:
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        stored = actions.bundle_attachment_add(
            bundle_id=self.bundle().pk,
            user=self.user(),
            upload=serializer.validated_data["file"],
            material_code=serializer.validated_data.get("material", ""),
            field_code=serializer.validated_data.get("field", ""),
        )
        return Response(AttachmentSerializer(stored, many=True).data, status=status.HTTP_201_CREATED)


class BundleApplicationSubmit(BundleApplicantView):
    """Submit every item of a bundle draft at once, or none: each child gets its 办件编号 and query password."""

    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            200: BundleApplicationDetailSerializer,
            400: OpenApiResponse(
                ERRORS[400].response,
                description="Missing Idempotency-Key (idempotency_key_required), or answers and materials missing "
                "(validation_error, `fields` naming them)",
            ),
            403: REAL_NAME_ERROR,
            404: ERRORS[404],
            409: OpenApiResponse(
                ERRORS[409].response, description="The bundle or an item changed (bundle_not_active, …)"
            ),
        },
        description="A second submit of a submitted bundle changes nothing and answers the same.",
    )
    def post(self, request: Request, bundle_id: str) -> Response:
        key = idempotency_key(request)
        bundle = actions.bundle_submit(bundle_id=self.bundle().pk, user=self.user(), idempotency_key=f"api:{key}")
        return self.bundle_detail(bundle)
