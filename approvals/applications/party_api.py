"""The other party's API (待我确认): what others applied for together with me, and my confirmation or refusal.

The same actions as the confirmations page (``parties.party_confirm`` / ``party_decline``): matched by my
verified identity, idempotent, locked; nothing about me is read before I confirm.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from approvals.applications import parties
from approvals.applications.api import ERRORS, REAL_NAME_ERROR, Applicant, ServiceReferenceSerializer
from approvals.models import ApplicationParty
from services.api import DepartmentReferenceSerializer

# However many are waiting, one answer lists the newest (as the page does).
MOST_LISTED = 50


class PartySerializer(serializers.Serializer[Any]):
    role = serializers.CharField(help_text="male | female")
    role_label = serializers.SerializerMethodField()
    name = serializers.CharField()
    id_number_masked = serializers.CharField()
    confirmed = serializers.SerializerMethodField()

    def get_role_label(self, party: ApplicationParty) -> str:
        return str(parties.role_label(party.role))

    def get_confirmed(self, party: ApplicationParty) -> bool:
        return party.confirmed_at is not None


class ConfirmationSerializer(serializers.Serializer[Any]):
    number = serializers.CharField(source="application.number", help_text="办件编号")
    service = ServiceReferenceSerializer(source="application.service", read_only=True)
    department = DepartmentReferenceSerializer(source="application.department")
    submitted_at = serializers.DateTimeField(source="application.submitted_at")
    my_role = serializers.CharField(source="role")
    others = serializers.SerializerMethodField()

    @extend_schema_field(PartySerializer(many=True))
    def get_others(self, party: ApplicationParty) -> Any:
        others = [other for other in parties.parties_of(party.application) if other.pk != party.pk]
        return PartySerializer(others, many=True).data


class AnswerSerializer(serializers.Serializer[Any]):
    number = serializers.CharField(help_text="办件编号")
    status = serializers.CharField(help_text="the application's status after the answer")
    outcome = serializers.ChoiceField(
        choices=[parties.OUTCOME_DECLINED, parties.OUTCOME_REFUSED, parties.OUTCOME_ROUTED, parties.OUTCOME_WAITING],
        help_text="declined (withdrawn); refused (the registry check failed, 不予受理: see reason); routed (every "
        "party confirmed, the checks passed: go to the registry office together); waiting (another party must answer)",
    )
    reason = serializers.CharField(allow_blank=True)


class Confirmations(Applicant):
    """The applications others made together with me, waiting for my answer (newest first, at most 50)."""

    @extend_schema(responses={200: ConfirmationSerializer(many=True)})
    def get(self, request: Request) -> Response:
        waiting = list(parties.pending_for(self.user())[:MOST_LISTED])
        return Response(ConfirmationSerializer(waiting, many=True).data)


class _Answer(Applicant):
    confirm: bool

    def post(self, request: Request, number: str) -> Response:
        if self.confirm:
            application = parties.party_confirm(number=number, user=self.user())
        else:
            application = parties.party_decline(number=number, user=self.user())
        outcome, reason = parties.answer_outcome(application)
        body = {"number": application.number, "status": application.status, "outcome": outcome, "reason": reason}
        return Response(AnswerSerializer(body).data)


class ConfirmationConfirm(_Answer):
    """I confirm, as the party named, the application made with me (again: the same answer)."""

    confirm = True

    @extend_schema(
        request=None,
        responses={200: AnswerSerializer, 403: REAL_NAME_ERROR, 404: ERRORS[404], 409: ERRORS[409]},
    )
    def post(self, request: Request, number: str) -> Response:
        return super().post(request, number)


class ConfirmationDecline(_Answer):
    """I decline the application made with me: it is withdrawn and the applicant told (again: the same answer)."""

    confirm = False

    @extend_schema(request=None, responses={200: AnswerSerializer, 404: ERRORS[404], 409: ERRORS[409]})
    def post(self, request: Request, number: str) -> Response:
        return super().post(request, number)
