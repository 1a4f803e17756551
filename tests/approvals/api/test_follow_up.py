"""The applications API: withdrawal, 补正, public tracking, the schema, two requests at once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from approvals.applications import submission
from approvals.models import Application, ApplicationEvent, IdempotencyRecord, NumberSequence, Outbox
from core import crypto
from demo.registry_data import WANG_YUTONG
from services.models import ServiceItem
from tests.approvals.api.helpers import (
    TRACK,
    local,
    submit,
    track_number,
    url,
)
from tests.approvals.builders import pdf_upload, ready_draft, submitted

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


# --- Withdrawing, 补正 --------------------------------------------------------------


def test_withdraw_then_withdraw_again(citizen, item, citizen_api):
    application = submitted(citizen, item)

    first = citizen_api.post(url(application, "withdraw"), {"reason": "不再需要"}, format="json")
    again = citizen_api.post(url(application, "withdraw"), {"reason": ""}, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert first.status_code == 200
    assert (first.json()["status"], first.json()["timeline"][-1]["action"]) == ("withdrawn", "withdrawn")
    assert again.status_code == 409
    assert again.json() == {
        "code": "wrong_status",
        "message": "This cannot be done now: the application is Withdrawn.",
        "fields": {},
    }
    assert application.events.get(action="withdrawn").details == {"reason": "不再需要"}


def test_the_supplement_flow(citizen, clerk, item, citizen_api):
    application = submitted(citizen, item)
    submission.application_request_supplement(
        application_id=application.pk,
        actor=clerk,
        department_id=item.department_id,
        fields=["phone"],
        materials=["photo"],
        note="照片不清晰，请重新上传；请核对联系电话。",
    )
    asked = citizen_api.get(url(application), HTTP_ACCEPT_LANGUAGE="en").json()

    too_early = citizen_api.post(
        url(application, "supplement"), {"data": {"phone": "13800001111"}}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    not_asked = citizen_api.post(url(application, "supplement"), {"data": {"reason": "改了"}}, format="json")
    upload = citizen_api.post(
        url(application, "attachments"), {"material": "photo", "file": pdf_upload("新照片.pdf")}, format="multipart"
    )
    done = citizen_api.post(url(application, "supplement"), {"data": {"phone": "13800001111"}}, format="json")

    assert (asked["status"], asked["status_display"]) == ("supplement_requested", "More information requested")
    assert asked["supplement_request"] == {
        "fields": ["phone"],
        "materials": ["photo"],
        "note": "照片不清晰，请重新上传；请核对联系电话。",
    }
    assert asked["timeline"][-1] == {
        "at": asked["timeline"][-1]["at"],
        "action": "supplement_requested",
        "text": "More information requested",
        "department": "杭州市市场监督管理局",
        "note": "照片不清晰，请重新上传；请核对联系电话。",
    }
    assert too_early.status_code == 400
    assert too_early.json()["fields"] == {"material.photo": ["Upload a new file for this material."]}
    assert (not_asked.status_code, not_asked.json()["code"], list(not_asked.json()["fields"])) == (
        400,
        "not_requested",
        ["reason"],
    )
    assert upload.status_code == 201
    assert done.status_code == 200
    assert done.json()["status"] == "submitted"  # asked before it was accepted: it goes back to be accepted
    assert done.json()["data"]["phone"] == "13800001111"
    assert done.json()["timeline"][-1]["action"] == "supplemented"


# --- Public tracking -----------------------------------------------------------------


def test_track_with_the_number_and_password_shows_progress_without_personal_data(citizen, item):
    application = submitted(citizen, item)
    password = crypto.decrypt(application.query_password_encrypted)
    event = application.events.get(action="submitted")

    # An app without a session or CSRF token, as a phone would post it.
    response = track_number(
        APIClient(enforce_csrf_checks=True), application.number.lower(), password, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    assert response.json() == {
        "number": application.number,
        "service": {"code": item.implementation_code, "name": "居住证明开具", "version": 1},
        "department": {"code": item.department.uscc, "name": "杭州市市场监督管理局"},
        "status": "submitted",
        "status_display": "Submitted",
        "due_date": None,
        "timeline": [{"at": local(event.at), "text": "Application submitted", "department": None}],
    }
    assert "王小明" not in response.content.decode()


def test_track_works_for_a_signed_in_browser_without_a_csrf_token(citizen, item):
    application = submitted(citizen, item)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(citizen)

    response = track_number(client, application.number, crypto.decrypt(application.query_password_encrypted))

    assert response.status_code == 200


def test_track_with_a_wrong_pair_says_nothing_more(citizen, item):
    application = submitted(citizen, item)
    password = crypto.decrypt(application.query_password_encrypted)
    wrong = f"{(int(password) + 1) % 10**6:06d}"

    wrong_password = track_number(APIClient(), application.number, wrong, HTTP_ACCEPT_LANGUAGE="en")
    no_such_number = track_number(
        APIClient(), item.implementation_code + "202001010001", password, HTTP_ACCEPT_LANGUAGE="en"
    )

    expected = {"code": "not_found", "message": "No application matches this number and query password.", "fields": {}}
    assert (wrong_password.status_code, wrong_password.json()) == (404, expected)
    assert (no_such_number.status_code, no_such_number.json()) == (404, expected)


def test_track_locks_a_number_after_too_many_wrong_passwords(citizen, item, settings):
    settings.TRACK_FAILURES_PER_NUMBER = 2
    application = submitted(citizen, item)
    password = crypto.decrypt(application.query_password_encrypted)
    wrong = f"{(int(password) + 1) % 10**6:06d}"

    failures = [track_number(APIClient(), application.number, wrong).status_code for _ in range(2)]
    right_but_locked = track_number(APIClient(), application.number, password, HTTP_ACCEPT_LANGUAGE="en")

    assert failures == [404, 404]
    assert right_but_locked.status_code == 429
    assert right_but_locked.json() == {
        "code": "throttled",
        "message": "Too many attempts. Please wait 15 minutes and try again.",
        "fields": {},
    }
    assert right_but_locked["Retry-After"] == "900"


def test_track_limits_attempts_per_client_address(citizen, item, settings):
    settings.TRACK_ATTEMPTS_PER_ADDRESS = 1
    application = submitted(citizen, item)
    password = crypto.decrypt(application.query_password_encrypted)

    first = track_number(APIClient(), application.number, password)
    second = track_number(APIClient(), application.number, password)

    assert (first.status_code, second.status_code) == (200, 429)


def test_track_needs_both_values(item):
    response = APIClient().post(TRACK, {"number": "X"}, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json()["fields"] == {"password": ["This field is required."]}


# --- The OpenAPI schema ---------------------------------------------------------------


def test_the_openapi_schema_describes_the_applications_api(client):
    response = client.get("/api/schema/?format=json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {
        "/api/v1/applications/",
        "/api/v1/applications/{application_id}/",
        "/api/v1/applications/{application_id}/attachments/",
        "/api/v1/applications/{application_id}/submit/",
        "/api/v1/applications/{application_id}/withdraw/",
        "/api/v1/applications/{application_id}/supplement/",
        "/api/v1/track/",
    } <= set(paths)
    assert set(paths["/api/v1/applications/"]) == {"get", "post"}
    assert set(paths["/api/v1/applications/{application_id}/"]) == {"get", "patch"}
    submit_parameters = paths["/api/v1/applications/{application_id}/submit/"]["post"]["parameters"]
    assert {"in": "header", "name": "Idempotency-Key", "required": True} in [
        {key: parameter[key] for key in ("in", "name", "required")} for parameter in submit_parameters
    ]
    upload = paths["/api/v1/applications/{application_id}/attachments/"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]
    assert "429" in paths["/api/v1/track/"]["post"]["responses"]


# --- Concurrency ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_submits_with_one_key_make_one_application(citizen: User, item: ServiceItem) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent requests need PostgreSQL's row locks")
    draft = ready_draft(citizen, item)
    threads_count = 20
    start = threading.Barrier(threads_count)
    results: list[tuple[int, Any]] = []
    lock = threading.Lock()

    def post() -> None:
        try:
            client = APIClient()
            client.force_authenticate(user=citizen)
            start.wait(timeout=30)
            response = submit(client, draft, key="one-key-for-all")
            with lock:
                results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    application = Application.objects.get(pk=draft.pk)
    assert len(results) == threads_count
    assert {status for status, _body in results} == {200}
    assert [body for _status, body in results] == [results[0][1]] * threads_count
    assert results[0][1]["number"] == application.number
    assert Application.objects.exclude(number=None).count() == 1
    assert ApplicationEvent.objects.filter(action="submitted").count() == 1
    assert Outbox.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    assert NumberSequence.objects.get().last == 1


def test_a_guardian_starts_an_application_for_their_minor_child_over_the_api(item, citizen_api, other_api):
    body = {"service": item.implementation_code, "for_minor": WANG_YUTONG.id_number}

    refused = other_api.post("/api/v1/applications/", body, format="json")
    created = citizen_api.post("/api/v1/applications/", body, format="json")

    assert refused.status_code == 403
    assert refused.json()["code"] == "not_guardian"
    assert created.status_code == 201
    assert created.json()["data"]["applicant_name"] == WANG_YUTONG.name
