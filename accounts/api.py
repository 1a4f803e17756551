"""The signed-in user over the API: who they are, their real-name verification, the enterprises they act for.

The same actions and selectors as the account pages (``accounts.actions``, ``accounts.real_name``,
``accounts.selectors``); errors are the portal's one error body. An enterprise is named by its USCC;
its agents are the legal representative's alone to see and change (anyone else gets a 404).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import actions, real_name, selectors
from accounts.models import AgentAuthorisation, AuthorisationScope, Enterprise, IdentityType, RealNameLevel, User
from core.addresses import client_address
from core.api import ErrorSerializer
from core.errors import NotFound

NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such enterprise or authorisation of yours")


class MeSerializer(serializers.ModelSerializer[User]):
    """The account as the API shows it: the name and identity document masked, never the clear number."""

    masked_name = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = ["email", "real_name_level", "masked_name", "id_type", "id_number_masked"]
        read_only_fields = fields


class Me(generics.RetrieveAPIView[User]):
    """The signed-in user, by browser session or by the app's ``X-Session-Token``."""

    serializer_class = MeSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_object(self) -> User:
        user = self.request.user
        assert isinstance(user, User)  # IsAuthenticated let only a signed-in user through
        return user


# --- Real-name verification -------------------------------------------------------


class RealNameStatusSerializer(serializers.Serializer[User]):
    """Where the account stands in real-name verification, and what it can do next."""

    level = serializers.IntegerField(
        source="real_name_level", help_text="1 未实名 (e-mail only), 2 初级实名, 3 高级实名"
    )
    level_display = serializers.SerializerMethodField()
    masked_name = serializers.CharField()
    next_step = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField())
    def get_level_display(self, user: User) -> str:
        return str(RealNameLevel(user.real_name_level).label)

    @extend_schema_field(
        serializers.ChoiceField(
            choices=[real_name.BASIC_STEP, real_name.FACE_CHECK_STEP],
            allow_null=True,
            help_text="basic: POST /api/v1/me/real-name/ with the registry's data; face_check: POST "
            "/api/v1/me/real-name/face-check/; null at the highest level",
        )
    )
    def get_next_step(self, user: User) -> str | None:
        return real_name.next_step(user)


class RealNameRequestSerializer(serializers.Serializer[Any]):
    """初级实名: what the population registry compares (the same fields as the verification page)."""

    full_name = serializers.CharField(max_length=100)
    id_type = serializers.ChoiceField(choices=IdentityType.choices, default=IdentityType.RESIDENT_ID)
    id_number = serializers.CharField(max_length=40)
    phone = serializers.CharField(max_length=20, help_text="the phone number registered with the household record")


class FaceCheckStartedSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(help_text="the face check's id")
    provider_url = serializers.URLField(
        help_text="open it in a browser: the provider checks the face and returns the person to the portal, "
        "which raises the account to 高级实名 on a pass (GET /api/v1/me/real-name/ tells)"
    )


class SignedIn(APIView):
    """What the signed-in user's own endpoints share."""

    permission_classes = [permissions.IsAuthenticated]

    def user(self) -> User:
        return selectors.user_for_owner(self.request.user)


class RealName(SignedIn):
    """My real-name level and the next step; 初级实名 by POSTing the registry's data, as the verification page."""

    @extend_schema(responses={200: RealNameStatusSerializer})
    def get(self, request: Request) -> Response:
        return Response(RealNameStatusSerializer(self.user()).data)

    @extend_schema(
        request=RealNameRequestSerializer,
        responses={
            200: RealNameStatusSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="A value is not valid (`fields`), or the registry does not confirm them "
                "(registry_mismatch)",
            ),
            409: OpenApiResponse(ErrorSerializer, description="Already verified (already_verified)"),
            429: OpenApiResponse(ErrorSerializer, description="Too many attempts by this account or address"),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = RealNameRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = self.user()
        verified = real_name.user_verify_real_name(
            user_id=user.pk,
            full_name=serializer.validated_data["full_name"],
            id_type=serializer.validated_data["id_type"],
            id_number=serializer.validated_data["id_number"],
            phone=serializer.validated_data["phone"],
            actor=user,
            address=client_address(request),
        )
        return Response(RealNameStatusSerializer(verified).data)


class FaceCheckStart(SignedIn):
    """高级实名: open a face check with the provider (初级实名 first), as the face-check page's button does."""

    @extend_schema(
        request=None,
        responses={
            201: FaceCheckStartedSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Too many face checks in the last hour"),
            409: OpenApiResponse(ErrorSerializer, description="Not at 初级实名 (not_basic), or already 高级实名"),
        },
    )
    def post(self, request: Request) -> Response:
        check, url = real_name.face_check_start(
            user=self.user(), return_url=request.build_absolute_uri(reverse("accounts:face_check_return"))
        )
        return Response({"id": str(check.pk), "provider_url": url}, status=status.HTTP_201_CREATED)


# --- Enterprises and their agents ----------------------------------------------------


class EnterpriseSerializer(serializers.ModelSerializer[Enterprise]):
    """An enterprise I act for: as its legal representative, or as an agent for all or some items."""

    is_legal_representative = serializers.SerializerMethodField()
    item_codes = serializers.SerializerMethodField()

    class Meta:
        model = Enterprise
        fields = ["uscc", "name", "kind", "is_legal_representative", "item_codes"]
        read_only_fields = fields

    def get_is_legal_representative(self, enterprise: Enterprise) -> bool:
        return bool(enterprise.legal_representative_id == self.context["user"].pk)

    @extend_schema_field(
        serializers.ListField(
            child=serializers.CharField(), allow_null=True, help_text="实施编码 I may act in; null: every item"
        )
    )
    def get_item_codes(self, enterprise: Enterprise) -> list[str] | None:
        codes = self.context["scopes"].get(enterprise.pk)
        return None if codes is None else sorted(codes)


class EnterpriseListSerializer(serializers.Serializer[Any]):
    results = EnterpriseSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="always null: a person acts for few enterprises")
    previous = serializers.CharField(allow_null=True, help_text="always null")


class EnterpriseClaimSerializer(serializers.Serializer[Any]):
    uscc = serializers.CharField(max_length=30, help_text="统一社会信用代码, 18 characters")


class AgentSerializer(serializers.Serializer[User]):
    masked_name = serializers.CharField()
    email = serializers.EmailField()


class AuthorisationSerializer(serializers.ModelSerializer[AgentAuthorisation]):
    """One authorisation of an agent (授权经办人), current or past."""

    agent = AgentSerializer(read_only=True)
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = AgentAuthorisation
        fields = [
            "id", "agent", "scope", "item_codes", "valid_from", "valid_to", "granted_at", "revoked_at",
            "revoke_reason", "is_active",
        ]  # fmt: skip
        read_only_fields = fields

    def get_is_active(self, authorisation: AgentAuthorisation) -> bool:
        return authorisation.is_active_on(timezone.localdate())


class AuthoriseSerializer(serializers.Serializer[Any]):
    agent_email = serializers.EmailField(help_text="the agent's account, real-name verified")
    scope = serializers.ChoiceField(choices=AuthorisationScope.choices, default=AuthorisationScope.ALL)
    item_codes = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list, help_text="with scope listed"
    )
    valid_from = serializers.DateField(required=False, help_text="default: today")
    valid_to = serializers.DateField(required=False, allow_null=True, default=None, help_text="null: until revoked")


class RevokeSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class Enterprises(SignedIn):
    """The enterprises I act for today; POST claims one as its legal representative (法人认领)."""

    @extend_schema(responses={200: EnterpriseListSerializer})
    def get(self, request: Request) -> Response:
        user = self.user()
        context = {"user": user, "scopes": selectors.enterprise_scopes(user)}
        enterprises = EnterpriseSerializer(selectors.enterprises_acting_for(user), many=True, context=context)
        return Response({"results": enterprises.data, "next": None, "previous": None})

    @extend_schema(
        request=EnterpriseClaimSerializer,
        responses={
            201: EnterpriseSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="Not verified, a malformed code, or the registry names someone else "
                "(not_legal_representative)",
            ),
            409: OpenApiResponse(ErrorSerializer, description="Already claimed by you (already_claimed)"),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = EnterpriseClaimSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = self.user()
        enterprise = actions.enterprise_claim(uscc=serializer.validated_data["uscc"], actor=user)
        context = {"user": user, "scopes": selectors.enterprise_scopes(user)}
        return Response(EnterpriseSerializer(enterprise, context=context).data, status=status.HTTP_201_CREATED)


class Representative(SignedIn):
    """An enterprise whose legal representative I am, by its USCC; 404 for anyone else (agents included)."""

    def enterprise(self) -> Enterprise:
        uscc = str(self.kwargs["uscc"]).strip().upper()
        for enterprise in selectors.enterprises_acting_for(self.request.user):
            if enterprise.uscc == uscc:
                return selectors.enterprise_for_representative(user=self.request.user, enterprise_id=enterprise.pk)
        raise NotFound(_("Enterprise not found."), code="enterprise_not_found")


class EnterpriseAgents(Representative):
    """The agents of my enterprise, current and past; POST authorises one (授权经办人), as the enterprise page."""

    @extend_schema(responses={200: AuthorisationSerializer(many=True), 404: NOT_FOUND})
    def get(self, request: Request, uscc: str) -> Response:
        authorisations = selectors.authorisations_of(self.enterprise())
        return Response(AuthorisationSerializer(authorisations, many=True).data)

    @extend_schema(
        request=AuthoriseSerializer,
        responses={
            201: AuthorisationSerializer,
            400: OpenApiResponse(ErrorSerializer, description="A value is not valid; `fields` names it"),
            404: NOT_FOUND,
            409: OpenApiResponse(ErrorSerializer, description="The agent holds an authorisation already"),
        },
    )
    def post(self, request: Request, uscc: str) -> Response:
        serializer = AuthoriseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        authorisation = actions.agent_authorise(
            enterprise_id=self.enterprise().pk,
            agent_email=data["agent_email"],
            scope=data["scope"],
            item_codes=data["item_codes"],
            valid_from=data.get("valid_from") or timezone.localdate(),
            valid_to=data["valid_to"],
            actor=self.user(),
        )
        return Response(AuthorisationSerializer(authorisation).data, status=status.HTTP_201_CREATED)


class AgentRevoke(Representative):
    """Revoke an agent's authorisation of my enterprise; it stays on record as revoked."""

    @extend_schema(
        request=RevokeSerializer,
        responses={
            200: AuthorisationSerializer,
            404: NOT_FOUND,
            409: OpenApiResponse(ErrorSerializer, description="Revoked already (already_revoked)"),
        },
    )
    def post(self, request: Request, uscc: str, authorisation_id: int) -> Response:
        serializer = RevokeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        enterprise = self.enterprise()
        if not any(each.pk == authorisation_id for each in selectors.authorisations_of(enterprise)):
            raise NotFound(_("Authorisation not found."), code="authorisation_not_found")
        authorisation = actions.agent_revoke(
            authorisation_id=authorisation_id, actor=self.user(), reason=serializer.validated_data["reason"]
        )
        return Response(AuthorisationSerializer(authorisation).data)
