"""Applications over the API: drafts, materials, submission, my applications, withdrawal, 补正, and public tracking.

Every view finds the application through a selector scoped to the user (someone
else's is a 404) and changes it through one action; errors are the portal's one
error body. Submitting needs an ``Idempotency-Key`` header, so an app that
retries after a lost answer gets the first answer instead of a second application.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, generics, mixins, permissions, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import real_name
from accounts import selectors as account_selectors
from accounts.models import Enterprise, User
from approvals.applications import actions, answer_privacy, selectors, submission, tracking
from approvals.materials import material_states
from approvals.models import Application, ApplicationEvent, Attachment, Channel, WorkflowTask
from core import crypto
from core.addresses import client_address
from core.api import ErrorSerializer, StableCursorPagination
from core.errors import DomainError, NotFound, TooManyAttempts
from services.api import DepartmentReferenceSerializer, department_reference
from services.models import ServiceItem

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX_LENGTH = 100  # IdempotencyRecord.key


# --- Serializers: what goes out ----------------------------------------------


class RealNameErrorSerializer(ErrorSerializer):
    """The error body when the account's real-name level is too low, with the page where it can be raised."""

    upgrade_url = serializers.URLField(required=False, help_text="with real_name_level_too_low only")


class ServiceReferenceSerializer(serializers.Serializer[ServiceItem]):
    code = serializers.CharField(source="implementation_code")
    name = serializers.CharField()
    version = serializers.IntegerField()


# Shared, unbound: it formats as the serializers' own fields do (ISO 8601).
DATE = serializers.DateField()


def _datetime(value: datetime.datetime | None) -> str | None:
    """As DRF's ``DateTimeField`` writes it (ISO 8601 in the current time zone, UTC as "Z"), without its field."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _status_display(status: str) -> str:
    """As ``get_status_display()``, which builds and hashes every status's label (a translation each) per call."""
    try:
        return str(Application.Status(status).label)
    except ValueError:
        return str(status)


# When the two deadlines exist: both are null until a department accepts (受理) the application, not at submission.
DUE_DATE_HELP = (
    "承诺时限: the day the department promises a decision by. Null while a draft and after submission until a "
    "department accepts (受理) the application (即办件 are accepted on submission, others by a clerk, or "
    "automatically 5 working days after receipt); then the promised limit in working days from acceptance. A 补正 "
    "moves it on by the working days the clock stood; an extension (延长审批) by its days."
)
LEGAL_DUE_DATE_HELP = (
    "法定时限: the statutory deadline, set on acceptance (受理) as due_date is, counting the item's legal limit in "
    "working days; null before acceptance and for items without a legal limit."
)


class ApplicationSummarySerializer(serializers.ModelSerializer[Application]):
    """An application as a list shows it."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    status = serializers.ChoiceField(choices=Application.Status.choices, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    service = ServiceReferenceSerializer(read_only=True)
    department = DepartmentReferenceSerializer(read_only=True)
    acting_for = serializers.CharField(
        source="acting_for.uscc", read_only=True, allow_null=True, help_text="USCC of the enterprise, or null"
    )

    class Meta:
        model = Application
        fields = [
            "id", "number", "status", "status_display", "service", "department", "acting_for",
            "created_at", "updated_at", "submitted_at", "due_date",
        ]  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {"due_date": {"help_text": DUE_DATE_HELP}}


# What a list reads of each application (no model instances, no JSON fields), and how it writes a row out:
# as ApplicationSummarySerializer does field by field, for which DRF takes longer than the rest of the
# request. A test holds the two equal.
SUMMARY_COLUMNS = (
    "public_id", "number", "status", "created_at", "updated_at", "submitted_at", "due_date",
    "service__implementation_code", "service__name", "service__version",
    "department__uscc", "department__name", "acting_for", "acting_for__uscc",
)  # fmt: skip


def summary(row: dict[str, Any]) -> dict[str, Any]:
    """One row of SUMMARY_COLUMNS as ApplicationSummarySerializer gives it."""
    return {
        "id": str(row["public_id"]),
        "number": None if row["number"] is None else str(row["number"]),
        "status": str(row["status"]),
        "status_display": _status_display(row["status"]),
        "service": {
            "code": str(row["service__implementation_code"]),
            "name": str(row["service__name"]),
            "version": int(row["service__version"]),
        },
        "department": department_reference(uscc=row["department__uscc"], name=row["department__name"]),
        "acting_for": None if row["acting_for"] is None else str(row["acting_for__uscc"]),
        "created_at": _datetime(row["created_at"]),
        "updated_at": _datetime(row["updated_at"]),
        "submitted_at": _datetime(row["submitted_at"]),
        "due_date": None if row["due_date"] is None else DATE.to_representation(row["due_date"]),
    }


class MaterialStateSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    is_required = serializers.BooleanField()
    source = serializers.CharField(  # type: ignore[assignment]  # as "fields" above
        help_text='"upload", "certificate:<type>" or "registry:<registry>"'
    )
    notes = serializers.CharField()
    satisfied_by = serializers.CharField(help_text='"upload", "certificate", "registry", or empty when missing')
    provision = serializers.CharField(
        help_text='"upload" (the applicant uploads it), "fetched" (the department takes it from a certificate or '
        'registry: no need to submit) or "counter" (shown or signed at the visit, never uploaded)'
    )
    is_upload_needed = serializers.BooleanField(help_text="whether submitting waits for this upload")
    file_name = serializers.CharField()
    attachment_id = serializers.CharField(help_text="id of the uploaded file, or empty")


class ApplicationEventSerializer(serializers.ModelSerializer[ApplicationEvent]):
    """One entry of the applicant's timeline."""

    action = serializers.ChoiceField(choices=ApplicationEvent.Action.choices, read_only=True)
    text = serializers.CharField(source="get_action_display", read_only=True)
    department = serializers.CharField(source="department.name", read_only=True, allow_null=True)

    class Meta:
        model = ApplicationEvent
        fields = ["at", "action", "text", "department", "note"]
        read_only_fields = fields


class ApplicationTaskSerializer(serializers.ModelSerializer[WorkflowTask]):
    """Where the file is: one department's task on it (no clerk's name)."""

    department = DepartmentReferenceSerializer(read_only=True)

    class Meta:
        model = WorkflowTask
        fields = ["name", "department", "status", "due_at"]
        read_only_fields = fields


class ApplicationDetailSerializer(ApplicationSummarySerializer):
    """One application of the user's, whole: answers, materials, what was asked in a 补正, the timeline.

    Selectors give this only to the applicant (or an agent of the enterprise), so
    the query password is theirs to see.
    """

    data = serializers.SerializerMethodField(  # type: ignore[assignment]  # as "fields" above
        help_text="answers, by field code; another person's ID number masked unless you are the applicant"
    )
    prefilled = serializers.JSONField(read_only=True, help_text="field code → registry it was filled from")
    materials = serializers.SerializerMethodField()
    supplement_request = serializers.JSONField(read_only=True, help_text='{"fields", "materials", "note"} or {}')
    version_notice = serializers.CharField(read_only=True)
    timeline = serializers.SerializerMethodField()
    tasks = serializers.SerializerMethodField()
    query_password = serializers.SerializerMethodField()

    class Meta(ApplicationSummarySerializer.Meta):
        fields = [
            *ApplicationSummarySerializer.Meta.fields,
            "legal_due_date", "data", "prefilled", "materials", "supplement_request", "version_notice", "timeline",
            "tasks", "query_password",
        ]  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {
            **ApplicationSummarySerializer.Meta.extra_kwargs,
            "legal_due_date": {"help_text": LEGAL_DUE_DATE_HELP},
        }

    @extend_schema_field(serializers.JSONField())
    def get_data(self, application: Application) -> Any:
        return answer_privacy.answers_for_viewer(application, self.context["viewer"])

    @extend_schema_field(MaterialStateSerializer(many=True))
    def get_materials(self, application: Application) -> Any:
        return MaterialStateSerializer(material_states(application), many=True).data

    @extend_schema_field(ApplicationEventSerializer(many=True))
    def get_timeline(self, application: Application) -> Any:
        return ApplicationEventSerializer(selectors.timeline(application), many=True).data

    @extend_schema_field(ApplicationTaskSerializer(many=True))
    def get_tasks(self, application: Application) -> Any:
        tasks = application.tasks.exclude(status=WorkflowTask.Status.CANCELLED).select_related("department")
        return ApplicationTaskSerializer(tasks.order_by("stage_round", "stage_index", "pk"), many=True).data

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_query_password(self, application: Application) -> str | None:
        if not application.query_password_encrypted:
            return None
        return crypto.decrypt(application.query_password_encrypted)


class AttachmentSerializer(serializers.ModelSerializer[Attachment]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    material = serializers.CharField(source="material_code", read_only=True)
    field = serializers.CharField(source="field_code", read_only=True)
    name = serializers.CharField(source="original_name", read_only=True)

    class Meta:
        model = Attachment
        fields = ["id", "material", "field", "name", "content_type", "size", "sha256"]
        read_only_fields = fields


class SubmissionSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    number = serializers.CharField(help_text="办件编号: 实施编码 + yyyymmdd + 4-digit sequence")
    status = serializers.ChoiceField(choices=Application.Status.choices)
    query_password = serializers.CharField(help_text="查询密码 for public tracking")


class TrackEventSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    text = serializers.CharField()
    department = serializers.CharField(allow_null=True)


class TrackResultSerializer(serializers.ModelSerializer[Application]):
    """What anyone holding the number and query password may see: no personal data, no notes."""

    status = serializers.ChoiceField(choices=Application.Status.choices, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    service = ServiceReferenceSerializer(read_only=True)
    department = DepartmentReferenceSerializer(read_only=True)
    timeline = serializers.SerializerMethodField()

    class Meta:
        model = Application
        fields = ["number", "service", "department", "status", "status_display", "due_date", "timeline"]
        read_only_fields = fields
        extra_kwargs = {"due_date": {"help_text": DUE_DATE_HELP}}

    # The fields describe the result (and the schema); this writes it out without DRF's field by field cost.
    # A test holds the two equal.
    def to_representation(self, instance: Application) -> dict[str, Any]:
        return {
            "number": None if instance.number is None else str(instance.number),
            "service": {
                "code": str(instance.service.implementation_code),
                "name": str(instance.service.name),
                "version": int(instance.service.version),
            },
            "department": department_reference(uscc=instance.department.uscc, name=instance.department.name),
            "status": str(instance.status),
            "status_display": _status_display(instance.status),
            "due_date": None if instance.due_date is None else DATE.to_representation(instance.due_date),
            "timeline": self.get_timeline(instance),
        }

    @extend_schema_field(TrackEventSerializer(many=True))
    def get_timeline(self, application: Application) -> list[dict[str, Any]]:
        return [
            {"at": _datetime(event.at), "text": str(event.text), "department": event.department or None}
            for event in tracking.public_timeline(application)
        ]


# --- Serializers: what comes in ----------------------------------------------


class ApplicationCreateSerializer(serializers.Serializer[Any]):
    service = serializers.CharField(max_length=31, help_text="实施编码 of a published service")
    acting_for = serializers.CharField(
        max_length=18, required=False, allow_null=True, allow_blank=True, help_text="USCC of the enterprise, or null"
    )
    data = serializers.DictField(  # type: ignore[assignment]  # as "fields" above
        required=False, help_text="answers, by field code"
    )
    for_minor = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="ID number of a minor of your household you apply for as guardian (监护人代办), or empty",
    )


class ApplicationDataSerializer(serializers.Serializer[Any]):
    data = serializers.DictField(  # type: ignore[assignment]  # as "fields" above
        help_text="answers, by field code; an empty value clears the field"
    )


class AttachmentUploadSerializer(serializers.Serializer[Any]):
    material = serializers.CharField(required=False, allow_blank=True, help_text="code of the material")
    field = serializers.CharField(required=False, allow_blank=True, help_text="or: code of a file field of the form")
    # Empty files are refused by the upload check, with its own code.
    file = serializers.FileField(allow_empty_file=True, help_text="PDF, JPEG or PNG")


class WithdrawSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class TrackQuerySerializer(serializers.Serializer[Any]):
    number = serializers.RegexField(r"^[0-9A-Za-z]{1,64}$", help_text="办件编号 (letters and digits)")
    password = serializers.CharField(max_length=64, help_text="查询密码 (6 digits)")


# --- Views -------------------------------------------------------------------

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input; `fields` says which"),
    404: OpenApiResponse(ErrorSerializer, description="Not found, or not yours"),
    409: OpenApiResponse(ErrorSerializer, description="Not possible in the application's current status"),
}
REAL_NAME_ERROR = OpenApiResponse(
    RealNameErrorSerializer,
    description="Not allowed; with code real_name_level_too_low, `upgrade_url` is where to raise the level",
)
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=True,
    description="A key the app makes once per submission (a UUID): a retry with the same key and request gets "
    "the first answer; the same key with another request is refused with 409.",
)


def idempotency_key(request: Request) -> str:
    """The submission's ``Idempotency-Key`` header, checked: required, at most 100 printable characters."""
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not key:
        raise DomainError(
            _("Send an Idempotency-Key header with a key made once for this submission."),
            code="idempotency_key_required",
        )
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise DomainError(
            _("The Idempotency-Key header is longer than %(limit)d characters.")
            % {"limit": IDEMPOTENCY_KEY_MAX_LENGTH},
            code="idempotency_key_invalid",
        )
    if not key.isprintable():
        raise DomainError(
            _("The Idempotency-Key header may hold only printable characters."), code="idempotency_key_invalid"
        )
    return key


def enterprise_acting_for(user: User, uscc: str) -> Enterprise | None:
    """The enterprise with this USCC that the user acts for; None for an empty code, NotFound for one they do not."""
    if not uscc.strip():
        return None
    for enterprise in account_selectors.enterprises_acting_for(user):
        if enterprise.uscc == uscc.strip().upper():
            return enterprise
    raise NotFound(_("You do not act for an organisation with this credit code."))


def upgrade_path(user: Any) -> str:
    """The page where the user raises their real-name level: the registry check first, then the face check."""
    return real_name.next_step_path(user)


class Applicant(APIView):
    """What every applicant's endpoint shares (single or bundle): signed in, the upgrade link on a level refusal."""

    permission_classes = [permissions.IsAuthenticated]

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if isinstance(exc, DomainError) and exc.code == "real_name_level_too_low":
            response.data["upgrade_url"] = self.request.build_absolute_uri(upgrade_path(self.request.user))
        return response

    def user(self) -> User:
        user = self.request.user
        assert isinstance(user, User)  # IsAuthenticated let only a signed-in user through
        return user


class ApplicantView(Applicant, generics.GenericAPIView[Application]):
    """What every endpoint of my applications shares: an applicant's, scoped to me (anyone else's is a 404)."""

    def get_object(self) -> Application:
        return selectors.application_for_owner(self.request.user, public_id=str(self.kwargs["application_id"]))

    def detail(self, application: Application, *, status_code: int = status.HTTP_200_OK) -> Response:
        """The application as it is now, read again through the selector (actions return it without relations)."""
        current = selectors.application_for_owner(self.request.user, public_id=str(application.public_id))
        serializer = ApplicationDetailSerializer(current, context={"viewer": self.user()})
        return Response(serializer.data, status=status_code)


class ApplicationCursorPagination(StableCursorPagination):
    # Newest first; the id orders applications of the same instant the same way on every page.
    ordering = ("-created_at", "-pk")  # type: ignore[assignment]


class ApplicationList(mixins.ListModelMixin, ApplicantView):
    """My applications (drafts included), newest first; and starting a new draft."""

    serializer_class = ApplicationSummarySerializer
    pagination_class = ApplicationCursorPagination

    def get_queryset(self) -> QuerySet[Application]:
        applications = selectors.applications_for_owner(self.request.user)
        wanted = [value.strip() for value in self.request.query_params.get("status", "").split(",") if value.strip()]
        unknown = [value for value in wanted if value not in Application.Status.values]
        if unknown:
            raise exceptions.ValidationError(
                {"status": [_("No such status: %(status)s.") % {"status": ", ".join(unknown)}]}
            )
        return applications.filter(status__in=wanted) if wanted else applications

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                description="Only applications in this status (several: comma-separated), e.g. draft or "
                "submitted,accepted,in_review. Values: " + ", ".join(Application.Status.values),
            )
        ],
        responses={200: ApplicationSummarySerializer(many=True), 400: ERRORS[400]},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rows = self.paginate_queryset(self.get_queryset().values(*SUMMARY_COLUMNS))
        assert rows is not None  # pagination_class is set
        return self.get_paginated_response([summary(row) for row in rows])

    @extend_schema(
        request=ApplicationCreateSerializer,
        responses={201: ApplicationDetailSerializer, 400: ERRORS[400], 403: REAL_NAME_ERROR, 404: ERRORS[404]},
        description="Start a draft (number null), already holding what the base registries know (最多跑一次).",
    )
    def post(self, request: Request) -> Response:
        serializer = ApplicationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = self.user()
        acting_for = enterprise_acting_for(user, serializer.validated_data.get("acting_for") or "")
        application = actions.application_draft_start(
            user=user,
            service_code=serializer.validated_data["service"],
            acting_for=acting_for,
            channel=Channel.MOBILE,
            data=serializer.validated_data.get("data") or {},
            minor_id_number=serializer.validated_data.get("for_minor") or "",
        )
        return self.detail(application, status_code=status.HTTP_201_CREATED)


class ApplicationDetail(ApplicantView):
    """One of my applications; a draft's answers are saved with PATCH."""

    @extend_schema(responses={200: ApplicationDetailSerializer, 404: ERRORS[404]})
    def get(self, request: Request, application_id: str) -> Response:
        application = self.get_object()
        if application.is_draft and application.service.status != ServiceItem.Status.PUBLISHED:
            # As the draft page does: a draft of a retired version moves to the published one, saying what changed.
            application = actions.draft_follow_new_version(application_id=application.pk)
        return self.detail(application)

    @extend_schema(
        request=ApplicationDataSerializer,
        responses={200: ApplicationDetailSerializer, 400: ERRORS[400], 404: ERRORS[404], 409: ERRORS[409]},
        description="Save answers into a draft: each given answer is checked; an empty one clears the field.",
    )
    def patch(self, request: Request, application_id: str) -> Response:
        serializer = ApplicationDataSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        application = actions.application_draft_update(
            application_id=self.get_object().pk, user=self.user(), data=serializer.validated_data["data"]
        )
        return self.detail(application)


class ApplicationAttachments(ApplicantView):
    """A file for a material (or a file field) of a draft, or of a 补正 that asked for it; it replaces the last one."""

    serializer_class = AttachmentUploadSerializer

    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer, 400: ERRORS[400], 404: ERRORS[404], 409: ERRORS[409]},
        description="Checked by content (PDF, JPEG or PNG), size-limited and virus-scanned; a refusal is a 400 "
        "with its code (upload_executable, upload_type_not_allowed, upload_too_large, upload_empty, …).",
    )
    def post(self, request: Request, application_id: str) -> Response:
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attachment = actions.attachment_add(
            application_id=self.get_object().pk,
            user=self.user(),
            upload=serializer.validated_data["file"],
            material_code=serializer.validated_data.get("material", ""),
            field_code=serializer.validated_data.get("field", ""),
        )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


class ApplicationSubmit(ApplicantView):
    """Submit a draft: it gets its 办件编号 and query password."""

    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            200: SubmissionSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="Missing Idempotency-Key (idempotency_key_required), or answers and materials missing "
                '(validation_error; `fields` keys: field codes, "code.0.column", "material.<code>")',
            ),
            403: REAL_NAME_ERROR,
            404: ERRORS[404],
            409: OpenApiResponse(
                ErrorSerializer, description="The key was used for another request (idempotency_key_reused)"
            ),
        },
    )
    def post(self, request: Request, application_id: str) -> Response:
        key = idempotency_key(request)
        application = self.get_object()
        _submitted, body = submission.application_submit(
            application_id=application.pk,
            user=self.user(),
            idempotency_key=key,
            request_hash=submission.request_fingerprint(
                {"application": str(application.public_id), "body": request.data}
            ),
        )
        return Response(body)


class ApplicationWithdraw(ApplicantView):
    """Take a submitted application back before it is decided."""

    serializer_class = WithdrawSerializer

    @extend_schema(
        request=WithdrawSerializer,
        responses={200: ApplicationDetailSerializer, 400: ERRORS[400], 404: ERRORS[404], 409: ERRORS[409]},
    )
    def post(self, request: Request, application_id: str) -> Response:
        serializer = WithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        application = submission.application_withdraw(
            application_id=self.get_object().pk, user=self.user(), reason=serializer.validated_data["reason"]
        )
        return self.detail(application)


class ApplicationSupplement(ApplicantView):
    """Answer a 补正: change only what the department asked for (upload asked-for materials first)."""

    serializer_class = ApplicationDataSerializer

    @extend_schema(
        request=ApplicationDataSerializer,
        responses={200: ApplicationDetailSerializer, 400: ERRORS[400], 404: ERRORS[404], 409: ERRORS[409]},
    )
    def post(self, request: Request, application_id: str) -> Response:
        serializer = ApplicationDataSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        application = submission.application_supplement(
            application_id=self.get_object().pk, user=self.user(), data=serializer.validated_data["data"]
        )
        return self.detail(application)


class Track(APIView):
    """办件查询: an application's progress by number and query password, without logging in; limited against guessing.

    No authentication is read, so no session and no CSRF token are needed; the
    answer holds no personal data and no notes.
    """

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=TrackQuerySerializer,
        responses={
            200: TrackResultSerializer,
            400: ERRORS[400],
            404: OpenApiResponse(ErrorSerializer, description="No application matches this number and password"),
            429: OpenApiResponse(ErrorSerializer, description="Too many attempts for this number or from this client"),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = TrackQuerySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = tracking.track(
            number=serializer.validated_data["number"],
            password=serializer.validated_data["password"],
            address=client_address(request),
        )
        if outcome.is_limited:
            raise TooManyAttempts(outcome.message, retry_after=settings.TRACK_LOCKOUT_SECONDS)
        if outcome.application is None:
            raise NotFound(outcome.message)
        return Response(TrackResultSerializer(outcome.application).data)
