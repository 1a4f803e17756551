"""My applications over the API: each row as the summary serializer gives it, an agent's list as cheap as a
citizen's, and a tracking result as DRF would write it."""

from __future__ import annotations

import datetime

import pytest
from django.utils import translation
from rest_framework import serializers
from rest_framework.test import APIClient

from approvals.applications import actions, api, submission, tracking
from approvals.models import Application
from core import crypto
from tests.approvals.api.helpers import APPLICATIONS
from tests.approvals.builders import make_enterprise_item, submitted
from tests.factories import authorise_agent
from tests.helpers import assert_query_count, get_counting_queries

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("upload_root", "english")]

ADDRESS = "203.0.113.9"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_list_row_is_written_as_the_summary_serializer_gives_it(
    language, citizen, item, enterprise, legal_rep, enterprise_agent, department
):
    sent = submitted(citizen, item)
    Application.objects.filter(pk=sent.pk).update(due_date=datetime.date(2026, 3, 2))
    draft = actions.application_draft_start(user=citizen, service_code=item.implementation_code)
    authorise_agent(enterprise, enterprise_agent, legal_rep, item_codes=[])
    for_enterprise = actions.application_draft_start(
        user=enterprise_agent,
        service_code=make_enterprise_item(department=department).implementation_code,
        acting_for=enterprise,
    )
    applications = Application.objects.filter(pk__in=[sent.pk, draft.pk, for_enterprise.pk]).order_by("pk")

    with translation.override(language):
        written = [api.summary(row) for row in applications.values(*api.SUMMARY_COLUMNS)]
        by_drf = api.ApplicationSummarySerializer(applications, many=True).data

    assert written == by_drf
    assert [(row["number"], row["acting_for"], row["due_date"]) for row in written] == [
        (sent.number, None, "2026-03-02"),
        (None, None, None),
        (None, enterprise.uscc, None),
    ]


def test_my_list_over_the_api_is_the_summary_serializer_of_my_applications(citizen, item):
    submitted(citizen, item)
    actions.application_draft_start(user=citizen, service_code=item.implementation_code)
    client = APIClient()
    client.force_login(citizen)

    response = client.get(APPLICATIONS, HTTP_ACCEPT_LANGUAGE="zh-hans")

    mine = Application.objects.filter(applicant=citizen).order_by("-created_at", "-pk")
    with translation.override("zh-hans"):
        expected = api.ApplicationSummarySerializer(mine, many=True).data
    assert response.json() == {"results": expected, "next": None, "previous": None}


def test_a_track_result_is_written_as_drf_would_give_it(citizen, item, clerk, department):
    application = submitted(citizen, item)
    submission.application_request_supplement(
        application_id=application.pk,
        actor=clerk,
        department_id=department.pk,
        fields=["reason"],
        materials=[],
        note="请补充申请事由。",
    )
    password = crypto.decrypt(application.query_password_encrypted)
    found = tracking.track(number=application.number, password=password, address=ADDRESS).application
    assert found is not None
    serializer = api.TrackResultSerializer(found)

    written = serializer.data
    field_by_field = serializers.ModelSerializer.to_representation(serializer, found)

    assert written == field_by_field
    assert [entry["department"] for entry in written["timeline"]] == [None, department.name]


def test_an_agents_list_runs_as_many_queries_as_a_citizens_and_shows_the_enterprises_applications(
    citizen, item, enterprise, legal_rep, enterprise_agent, department
):
    submitted(citizen, item)
    citizen_api = APIClient()
    citizen_api.force_login(citizen)
    _response, citizens = get_counting_queries(citizen_api, APPLICATIONS)
    enterprise_item = make_enterprise_item(department=department)
    authorise_agent(enterprise, enterprise_agent, legal_rep, item_codes=[enterprise_item.implementation_code])
    by_representative = [
        actions.application_draft_start(
            user=legal_rep, service_code=enterprise_item.implementation_code, acting_for=enterprise
        )
        for _ in range(3)
    ]
    agent_api = APIClient()
    agent_api.force_login(enterprise_agent)

    response, agents = get_counting_queries(agent_api, APPLICATIONS)

    assert_query_count(agents, len(citizens))
    assert [entry["id"] for entry in response.json()["results"]] == [
        str(application.public_id) for application in reversed(by_representative)
    ]
