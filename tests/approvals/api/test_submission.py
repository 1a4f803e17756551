"""The applications API: an idempotent submit, and my applications."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.utils import timezone

from approvals.applications import actions
from approvals.models import Application, ApplicationEvent, IdempotencyRecord, NumberSequence, Outbox
from core import crypto
from tests.approvals.api.helpers import (
    APPLICATIONS,
    WANG_ANSWERS,
    local,
    submit,
    url,
)
from tests.approvals.builders import complete_answers, ready_draft, submitted
from tests.helpers import assert_query_count, get_counting_queries

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


# --- Submitting ----------------------------------------------------------------------


def test_submit_numbers_the_application_by_the_day_in_shanghai(citizen, item, citizen_api, monkeypatch):
    draft = ready_draft(citizen, item)
    # 01:30 on 2 May in Shanghai is still 1 May in UTC: the number carries the Shanghai date.
    instant = datetime.datetime(2024, 5, 1, 17, 30, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: instant)

    response = submit(citizen_api, draft)

    assert response.status_code == 200
    application = Application.objects.get(pk=draft.pk)
    assert response.json() == {
        "id": str(draft.public_id),
        "number": f"{item.implementation_code}202405020001",
        "status": "submitted",
        "query_password": crypto.decrypt(application.query_password_encrypted),
    }
    assert len(response.json()["number"]) == 43
    assert response.json()["query_password"].isdigit()
    assert len(response.json()["query_password"]) == 6
    assert (application.number, application.status) == (response.json()["number"], "submitted")
    assert Outbox.objects.filter(application=application).count() == 1


def test_the_same_key_and_request_again_get_the_same_answer(citizen, item, citizen_api):
    draft = ready_draft(citizen, item)

    first = submit(citizen_api, draft, key="retry-me")
    again = submit(citizen_api, draft, key="retry-me")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert ApplicationEvent.objects.filter(application=draft, action="submitted").count() == 1
    assert NumberSequence.objects.get().last == 1


def test_the_same_key_for_another_request_is_a_conflict(citizen, item, citizen_api):
    draft = ready_draft(citizen, item)
    other_draft = ready_draft(citizen, item)
    first = submit(citizen_api, draft, key="once")

    other_body = submit(citizen_api, draft, key="once", body={"channel": "3"}, HTTP_ACCEPT_LANGUAGE="en")
    other_application = submit(citizen_api, other_draft, key="once")

    assert first.status_code == 200
    assert other_body.status_code == other_application.status_code == 409
    assert other_body.json() == {
        "code": "idempotency_key_reused",
        "message": "This idempotency key was already used for a different request.",
        "fields": {},
    }
    assert other_application.json()["code"] == "idempotency_key_reused"
    assert Application.objects.get(pk=other_draft.pk).status == "draft"


def test_submit_needs_an_idempotency_key(citizen, item, citizen_api):
    draft = ready_draft(citizen, item)

    response = citizen_api.post(url(draft, "submit"), {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    too_long = submit(citizen_api, draft, key="k" * 101)

    assert response.status_code == 400
    assert response.json() == {
        "code": "idempotency_key_required",
        "message": "Send an Idempotency-Key header with a key made once for this submission.",
        "fields": {},
    }
    assert (too_long.status_code, too_long.json()["code"]) == (400, "idempotency_key_invalid")
    assert Application.objects.get(pk=draft.pk).status == "draft"


def test_submit_without_the_materials_says_which_are_missing(citizen, item, citizen_api):
    draft = actions.application_draft_start(user=citizen, service_code=item.implementation_code)
    actions.application_draft_update(application_id=draft.pk, user=citizen, data=complete_answers())

    response = submit(citizen_api, draft, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {
        "code": "validation_error",
        "message": "Some answers or materials are missing or need correcting.",
        "fields": {"material.photo": ["Provide this material: 证件照片."]},
    }
    assert Application.objects.get(pk=draft.pk).status == "draft"
    assert IdempotencyRecord.objects.count() == 0


def test_submit_without_answers_gives_one_message_per_field(citizen, item, citizen_api):
    draft = actions.application_draft_start(user=citizen, service_code=item.implementation_code)

    fields = submit(citizen_api, draft).json()["fields"]

    assert set(fields) == {"phone", "delivery", "reason", "declaration", "material.photo"}
    assert all(len(messages) == 1 for messages in fields.values())


# --- My applications ---------------------------------------------------------------


def test_the_detail_of_a_submitted_application(citizen, item, citizen_api):
    draft = ready_draft(citizen, item)
    answer = submit(citizen_api, draft).json()

    body = citizen_api.get(url(draft), HTTP_ACCEPT_LANGUAGE="en").json()

    application = Application.objects.get(pk=draft.pk)
    events = list(application.events.order_by("at", "pk"))
    assert {key: body[key] for key in ("id", "number", "status", "status_display", "query_password")} == {
        "id": str(draft.public_id),
        "number": answer["number"],
        "status": "submitted",
        "status_display": "Submitted",
        "query_password": answer["query_password"],
    }
    assert body["data"] == {**WANG_ANSWERS, **complete_answers()}
    assert body["submitted_at"] == local(application.submitted_at)
    assert body["due_date"] is None
    assert body["supplement_request"] == {}
    assert body["timeline"] == [
        {"at": local(events[0].at), "action": "created", "text": "Application started", "department": None, "note": ""},
        {
            "at": local(events[1].at),
            "action": "prefilled",
            "text": "Details filled in from government records",
            "department": None,
            "note": "",
        },
        {
            "at": local(events[2].at),
            "action": "submitted",
            "text": "Application submitted",
            "department": None,
            "note": "",
        },
    ]


def test_an_unknown_id_is_not_found(citizen_api, item):
    response = citizen_api.get(f"{APPLICATIONS}{uuid.uuid4()}/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "No such application.", "fields": {}}


def test_my_list_is_newest_first_cursor_paginated_and_filtered_by_status(citizen, item, citizen_api):
    sent = submitted(citizen, item)
    drafts = [actions.application_draft_start(user=citizen, service_code=item.implementation_code) for _ in range(21)]

    first = citizen_api.get(APPLICATIONS).json()
    second = citizen_api.get(first["next"]).json()
    only_submitted = citizen_api.get(APPLICATIONS + "?status=submitted", HTTP_ACCEPT_LANGUAGE="en").json()
    several = citizen_api.get(APPLICATIONS + "?status=draft,submitted").json()

    newest_first = [str(application.public_id) for application in [*reversed(drafts), sent]]
    assert first["previous"] is None
    assert [entry["id"] for entry in first["results"] + second["results"]] == newest_first
    assert second["next"] is None
    assert [entry["id"] for entry in only_submitted["results"]] == [str(sent.public_id)]
    assert only_submitted["results"][0] == {
        "id": str(sent.public_id),
        "number": sent.number,
        "status": "submitted",
        "status_display": "Submitted",
        "service": {"code": item.implementation_code, "name": "居住证明开具", "version": 1},
        "department": {"code": item.department.uscc, "name": "杭州市市场监督管理局"},
        "acting_for": None,
        "created_at": local(sent.created_at),
        "updated_at": local(Application.objects.get(pk=sent.pk).updated_at),
        "submitted_at": local(sent.submitted_at),
        "due_date": None,
    }
    assert len(several["results"]) == 20


def test_an_unknown_status_filter_is_refused(citizen_api):
    response = citizen_api.get(APPLICATIONS + "?status=lost", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "Some values are not valid.",
        "fields": {"status": ["No such status: lost."]},
    }


def test_the_list_runs_the_same_queries_however_many_applications(citizen, item, citizen_api):
    submitted(citizen, item)
    _response, few = get_counting_queries(citizen_api, APPLICATIONS)
    for _ in range(15):
        actions.application_draft_start(user=citizen, service_code=item.implementation_code)

    response, many = get_counting_queries(citizen_api, APPLICATIONS)

    assert len(response.json()["results"]) == 16
    # the user, the enterprises they represent and act for (one query), the page of applications
    # (the session is saved again only once a minute)
    assert_query_count(many, len(few))
    assert_query_count(many, 3)
