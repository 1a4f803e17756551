"""窗口收件 over the API: a clerk records an application for a person at the counter, and reads its receipt.

Staff with TOTP only, as the counter page. The draft it starts is the recording
clerk's until submitted, so the clerk fills, uploads and submits it through the
applications endpoints (``/api/v1/applications/<id>/…``), as the page sends them
to the draft pages; once submitted it is the person's, and the clerk reads only
its receipt.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors as account_selectors
from accounts.models import User
from approvals.applications import actions, selectors
from approvals.applications.api import ERRORS, ApplicationDetailSerializer, ServiceReferenceSerializer
from approvals.workbench.api import IsStaffWithMfa
from core.api import ErrorSerializer
from datahub.identity import IdentityType
from services.api import DepartmentReferenceSerializer
from services.models import Department


class CounterStartSerializer(serializers.Serializer[Any]):
    """The counter page's form: the department and service, the person as their document in hand shows them."""

    department = serializers.CharField(max_length=18, help_text="USCC of one of your departments")
    service = serializers.CharField(max_length=31, help_text="实施编码 of a service of that department, for persons")
    name = serializers.CharField(max_length=60, help_text="the applicant's name, as on the document")
    id_type = serializers.ChoiceField(choices=IdentityType.choices)
    id_number = serializers.CharField(max_length=40)
    document_seen = serializers.BooleanField(
        help_text="true: you have checked the original document and that it shows the person in front of you"
    )

    def validate_document_seen(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(
                _("Check the original document and that it shows the person in front of you.")
            )
        return value


class CounterReceiptSerializer(serializers.Serializer[Any]):
    """What the receipt the clerk prints for the person says."""

    id = serializers.UUIDField(source="public_id")
    number = serializers.CharField(help_text="办件编号")
    query_password = serializers.SerializerMethodField()
    service = ServiceReferenceSerializer()
    department = DepartmentReferenceSerializer()
    submitted_at = serializers.DateTimeField()
    applicant_id_masked = serializers.CharField(help_text="the person's document number, masked")
    track_url = serializers.SerializerMethodField()

    def get_query_password(self, application: Any) -> str:
        """查询密码, for the person to follow the application without an account."""
        return selectors.query_password(application)

    def get_track_url(self, application: Any) -> str:
        """Where the person follows the application with number and query password."""
        return str(self.context["request"].build_absolute_uri(reverse("approvals:track")))


class CounterView(APIView):
    permission_classes = [IsStaffWithMfa]

    def user(self) -> User:
        user = self.request.user
        assert isinstance(user, User)  # the permission let only a signed-in staff member through
        return user


class CounterStart(CounterView):
    """Record an application for a person at the counter: the registry confirms name and document first."""

    @extend_schema(
        request=CounterStartSerializer,
        responses={
            201: ApplicationDetailSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="A value is not valid, the service is another department's or for organisations, or the "
                "registry does not confirm the person (identity_mismatch); `fields` names the input",
            ),
            403: OpenApiResponse(ErrorSerializer, description="Not staff with TOTP (not_staff, mfa_required)"),
            404: ERRORS[404],
        },
        description="201 the draft, the recording clerk's until submitted: fill it with PATCH "
        "/api/v1/applications/<id>/, its materials with …/attachments/, and submit it with …/submit/.",
    )
    def post(self, request: Request) -> Response:
        serializer = CounterStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = self.user()
        department = (
            Department.objects.filter(pk__in=account_selectors.staff_departments(user), uscc=data["department"].upper())
            .values_list("pk", flat=True)
            .first()
        )
        if department is None:
            raise exceptions.ValidationError({"department": [_("You do not work for this department.")]})
        application = actions.application_counter_start(
            clerk=user,
            department_id=department,
            service_code=data["service"],
            name=data["name"],
            id_type=data["id_type"],
            id_number=data["id_number"],
        )
        current = selectors.application_for_owner(user, public_id=str(application.public_id))
        return Response(
            ApplicationDetailSerializer(current, context={"viewer": user}).data, status=status.HTTP_201_CREATED
        )


class CounterReceipt(CounterView):
    """The receipt of a counter application I recorded, once submitted: number and query password for the person."""

    @extend_schema(responses={200: CounterReceiptSerializer, 404: ERRORS[404]})
    def get(self, request: Request, application_id: str) -> Response:
        application = selectors.counter_application_for_clerk(request.user, public_id=str(application_id))
        return Response(CounterReceiptSerializer(application, context={"request": request}).data)
