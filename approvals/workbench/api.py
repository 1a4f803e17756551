"""The clerk's workbench over the API: the tasks of their departments, claim, release, decide, reassign.

Staff only, as the pages: a staff member with an activated TOTP authenticator.
A task of a department the user does not work for (now) is a 404. Each change
goes through one routing action; errors are the portal's one error body.
Results travel as English codes (``approve`` …), each standing for one of the
workflow's national results (同意 …).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, generics, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors as account_selectors
from accounts.models import User
from approvals import workflow
from approvals.models import Application, WorkflowTask
from approvals.workbench import actions as workbench_actions
from approvals.workbench import queue
from core.api import ErrorSerializer, StableCursorPagination
from core.errors import Conflict, DomainError, PermissionDenied
from services.api import DepartmentReferenceSerializer

# The API's result codes and the workflow results they stand for (approvals.workflow), in the workflow's order.
RESULT_CODES = {
    "approve": workflow.APPROVE,
    "reject": workflow.REFUSE,
    "accept": workflow.ACCEPT,
    "not_accept": workflow.NOT_ACCEPT,
    "supplement": workflow.SUPPLEMENT,
    "return": workflow.RETURN,
}
CODE_OF_RESULT = {result: code for code, result in RESULT_CODES.items()}
RESULT_HELP = ", ".join(f"{code}={result}" for code, result in RESULT_CODES.items())
# Where a routing error's field is in the decide request.
DECIDE_ERROR_FIELDS = {"fields": "supplement.fields", "materials": "supplement.materials", "note": "opinion"}


def result_codes(results: list[str]) -> list[str]:
    """The API codes of workflow results, in their order (a result without a code is left out)."""
    return [CODE_OF_RESULT[result] for result in results if result in CODE_OF_RESULT]


def _flat_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """A serializer's errors with nested keys joined by dots (``supplement.fields``), as the error body lists them."""
    if isinstance(detail, dict):
        found: dict[str, list[str]] = {}
        for key, value in detail.items():
            found.update(_flat_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return found
    return {prefix: [str(message) for message in (detail if isinstance(detail, list) else [detail])]}


class IsStaffWithMfa(permissions.BasePermission):
    """A staff member (is_staff or a department membership) with an activated TOTP authenticator.

    Anonymous requests get DRF's not_authenticated; anyone else signed in is told why (not_staff, mfa_required).
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if not account_selectors.is_staff_member(user):
            raise exceptions.PermissionDenied(_("Only staff of a department may use the workbench."), code="not_staff")
        if not account_selectors.has_totp(user):
            raise exceptions.PermissionDenied(
                _("Staff must log in with two-factor authentication: activate an authenticator app first."),
                code="mfa_required",
            )
        return True


# --- Serializers ------------------------------------------------------------------


class TaskApplicationSerializer(serializers.Serializer[Application]):
    id = serializers.UUIDField(source="public_id", help_text="the application's id, as /api/v1/applications/ gives it")
    number = serializers.CharField(help_text="办件编号")


class AssigneeSerializer(serializers.Serializer[User]):
    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")


class TaskSerializer(serializers.ModelSerializer[WorkflowTask]):
    """A task of one of my departments."""

    application = TaskApplicationSerializer(read_only=True)
    department = DepartmentReferenceSerializer(read_only=True)
    status = serializers.ChoiceField(choices=WorkflowTask.Status.choices, read_only=True)
    assignee = AssigneeSerializer(read_only=True, allow_null=True, help_text="who holds the task; null when waiting")
    allowed_results = serializers.SerializerMethodField()

    class Meta:
        model = WorkflowTask
        fields = ["id", "application", "department", "name", "status", "assignee", "due_at", "allowed_results"]
        read_only_fields = fields

    # The decide request's ``result`` names the codes' enum ResultEnum; one component for both keeps the
    # schema free of a second name for the same choices (an ENUM_NAME_OVERRIDES entry would do it too).
    @extend_schema_field(
        {
            "type": "array",
            "items": {"$ref": "#/components/schemas/ResultEnum"},
            "description": f"the results this task may give: {RESULT_HELP}",
        }
    )
    def get_allowed_results(self, task: WorkflowTask) -> list[str]:
        return result_codes(task.allowed_results)


class TaskFilterSerializer(serializers.Serializer[Any]):
    """The list's filters (query parameters)."""

    status = serializers.ChoiceField(
        choices=WorkflowTask.Status.choices,
        required=False,
        help_text="only the tasks in this status; without it, the open ones (pending and claimed)",
    )
    service = serializers.RegexField(
        r"^[0-9A-Za-z]{1,31}$", required=False, help_text="实施编码 of a service: only its tasks"
    )
    due_before = serializers.DateTimeField(
        required=False, help_text="only the tasks due before this moment (ISO 8601; without an offset, Beijing time)"
    )


class SupplementSerializer(serializers.Serializer[Any]):
    # Declared fields leave the class body, so this shadows Serializer.fields in the type stubs only.
    fields = serializers.ListField(  # type: ignore[assignment]
        child=serializers.CharField(max_length=60), required=False, default=list, help_text="field codes of the form"
    )
    materials = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list, help_text="material codes"
    )


class DecideSerializer(serializers.Serializer[Any]):
    result = serializers.ChoiceField(
        choices=list(RESULT_CODES), help_text=f"one of the task's allowed_results: {RESULT_HELP}"
    )
    opinion = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=4000,
        help_text="required for reject, not_accept, supplement and return: the applicant reads it",
    )
    supplement = SupplementSerializer(
        required=False,
        help_text="for supplement (补齐补正): what the applicant must give again, all at once (at least one item)",
    )


class ReassignSerializer(serializers.Serializer[Any]):
    assignee = serializers.IntegerField(
        min_value=1,
        allow_null=True,
        help_text="the user id of a member of the task's department; null: back to the queue",
    )


# --- Views ------------------------------------------------------------------------

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input; `fields` says which"),
    403: OpenApiResponse(
        ErrorSerializer,
        description="Not signed in (not_authenticated), not staff (not_staff), or no TOTP (mfa_required)",
    ),
    404: OpenApiResponse(ErrorSerializer, description="No such task in your departments"),
    409: OpenApiResponse(
        ErrorSerializer, description="Not possible in the task's current state (task_taken, not_assignee, task_done …)"
    ),
}


class TaskCursorPagination(StableCursorPagination):
    # The queue's order: the most urgent first, the id ordering tasks due at the same moment.
    ordering = ("due_at", "pk")  # type: ignore[assignment]


class WorkbenchView(generics.GenericAPIView[WorkflowTask]):
    permission_classes = [IsStaffWithMfa]
    serializer_class = TaskSerializer

    def user(self) -> User:
        user = self.request.user
        assert isinstance(user, User)  # the permission let only a signed-in staff member through
        return user

    def task(self, task_id: int) -> WorkflowTask:
        return queue.task_for_staff(self.request.user, task_id=task_id)

    def task_response(self, task_id: int) -> Response:
        """The task as it is now, read again through the selector (actions return it without relations)."""
        return Response(self.get_serializer(self.task(task_id)).data)


class TaskList(WorkbenchView):
    """The tasks of my departments, the most urgent first (cursor-paginated on due time and id)."""

    pagination_class = TaskCursorPagination

    @extend_schema(
        parameters=[TaskFilterSerializer],
        responses={200: TaskSerializer(many=True), 400: ERRORS[400], 403: ERRORS[403]},
    )
    def get(self, request: Request) -> Response:
        filters = TaskFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        tasks = queue.department_tasks(
            account_selectors.staff_departments(request.user),
            status=filters.validated_data.get("status", ""),
            service=filters.validated_data.get("service", "").upper(),
            due_before=filters.validated_data.get("due_before"),
        )
        page = self.paginate_queryset(tasks)
        assert page is not None  # always paginated
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class TaskClaim(WorkbenchView):
    """Take a waiting task of my department; a task already claimed, by anyone, is a 409 (task_taken)."""

    @extend_schema(
        request=None,
        responses={200: TaskSerializer, 403: ERRORS[403], 404: ERRORS[404], 409: ERRORS[409]},
        description="Two clerks at once never both get a task. Claiming a task one holds already is a 409 too; "
        "supervisors give a claimed task to someone else with reassign.",
    )
    def post(self, request: Request, task_id: int) -> Response:
        task = self.task(task_id)
        # workbench_actions.task_claim lets the holder claim again (the page's double click); the API says it is taken.
        if queue.is_held_by(task, request.user):
            raise Conflict(_("You already hold this task."), code="task_taken")
        workbench_actions.task_claim(task_id=task.pk, clerk=self.user())
        return self.task_response(task.pk)


class TaskRelease(WorkbenchView):
    """Put my claimed task back in the queue."""

    @extend_schema(request=None, responses={200: TaskSerializer, 403: ERRORS[403], 404: ERRORS[404], 409: ERRORS[409]})
    def post(self, request: Request, task_id: int) -> Response:
        task = self.task(task_id)
        workbench_actions.task_release(task_id=task.pk, clerk=self.user())
        return self.task_response(task.pk)


class TaskDecide(WorkbenchView):
    """Give my claimed task its result; routing moves the application on after the commit."""

    @extend_schema(
        request=DecideSerializer,
        responses={200: TaskSerializer, 400: ERRORS[400], 403: ERRORS[403], 404: ERRORS[404], 409: ERRORS[409]},
        description="A result the task does not allow is a 400. A supplement (补齐补正) asks the applicant, all at "
        "once, for the fields and materials listed in `supplement` (at least one), with the opinion as what they "
        "are told.",
    )
    def post(self, request: Request, task_id: int) -> Response:
        task = self.task(task_id)
        serializer = DecideSerializer(data=request.data)
        if not serializer.is_valid():
            raise exceptions.ValidationError(_flat_errors(serializer.errors))
        data = serializer.validated_data
        supplement = data.get("supplement") or {}
        try:
            workbench_actions.task_decide(
                task_id=task.pk,
                clerk=self.user(),
                result=RESULT_CODES[data["result"]],
                opinion=data["opinion"],
                supplement_fields=supplement.get("fields", []),
                supplement_materials=supplement.get("materials", []),
            )
        except DomainError as error:
            # Routing names the request's parts and results as the pages do; say them as this request does.
            error.fields = {DECIDE_ERROR_FIELDS.get(key, key): texts for key, texts in error.fields.items()}
            if "result" in error.fields:
                allowed = ", ".join(result_codes(task.allowed_results))
                error.fields["result"] = [_("Choose one of: %(results)s.") % {"results": allowed}]
            raise
        return self.task_response(task.pk)


class TaskReassign(WorkbenchView):
    """A supervisor of the task's department gives an open task to a member of it, or back to the queue."""

    @extend_schema(
        request=ReassignSerializer,
        responses={
            200: TaskSerializer,
            400: ERRORS[400],
            403: OpenApiResponse(
                ErrorSerializer,
                description="As every endpoint (not_authenticated, not_staff, mfa_required), or not a supervisor of "
                "the task's department (not_supervisor)",
            ),
            404: ERRORS[404],
            409: ERRORS[409],
        },
    )
    def post(self, request: Request, task_id: int) -> Response:
        task = self.task(task_id)
        if not queue.is_supervisor(request.user, task.department_id):
            raise PermissionDenied(
                _("Only a supervisor of the task's department may reassign it."), code="not_supervisor"
            )
        serializer = ReassignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        workbench_actions.task_reassign(
            task_id=task.pk, supervisor=self.user(), to_user_id=serializer.validated_data["assignee"]
        )
        return self.task_response(task.pk)
