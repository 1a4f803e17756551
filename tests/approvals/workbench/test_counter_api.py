"""窗口收件 over the API: a clerk records, fills and submits for a person at the counter, prints a receipt."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from approvals.models import Application, Channel
from core import crypto
from datahub.models import DataAccessLog
from demo.registry_data import WANG_XIAOMING
from services.models import ServiceItem
from tests.approvals.builders import pdf_upload
from tests.factories import enroll_totp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("upload_root", "unsent")]

COUNTER = "/api/v1/workbench/counter/"
APPLICATIONS = "/api/v1/applications/"
ANSWERS = {"phone": "13712349050", "reason": "窗口申请。", "delivery": "counter", "declaration": True}


def api_of(user: User | None, *, totp: bool = True) -> APIClient:
    client = APIClient()
    if user is not None:
        if totp:
            enroll_totp(user)
        client.force_login(user)
    return client


def person(item: ServiceItem, **overrides: Any) -> dict[str, Any]:
    return {
        "department": item.department.uscc,
        "service": item.implementation_code,
        "name": WANG_XIAOMING.name,
        "id_type": "111",
        "id_number": WANG_XIAOMING.id_number,
        "document_seen": True,
    } | overrides


def test_a_clerk_records_fills_submits_and_prints_the_receipt(item, citizen, clerk):
    client = api_of(clerk)

    started = client.post(COUNTER, person(item), format="json")
    draft = Application.objects.get()
    url = f"{APPLICATIONS}{draft.public_id}/"
    hidden_from_the_person = api_of(citizen).get(url)
    filled = client.patch(url, {"data": ANSWERS}, format="json")
    uploaded = client.post(f"{url}attachments/", {"material": "photo", "file": pdf_upload()}, format="multipart")
    submitted = client.post(f"{url}submit/", {}, format="json", HTTP_IDEMPOTENCY_KEY="counter-1")
    receipt = client.get(f"{COUNTER}{draft.public_id}/receipt/")

    assert started.status_code == 201
    assert started.json()["status"] == "draft"
    assert started.json()["data"]["applicant_name"] == WANG_XIAOMING.name
    assert (draft.channel, draft.recorded_by, draft.applicant) == (Channel.COUNTER, clerk, citizen)
    assert {entry.department_id for entry in DataAccessLog.objects.filter(actor=clerk)} == {item.department_id}
    assert hidden_from_the_person.status_code == 404
    assert (filled.status_code, uploaded.status_code, submitted.status_code) == (200, 201, 200)
    draft.refresh_from_db()
    assert receipt.status_code == 200
    assert receipt.json() == {
        "id": str(draft.public_id),
        "number": draft.number,
        "query_password": crypto.decrypt(draft.query_password_encrypted),
        "service": {"code": item.implementation_code, "name": item.name, "version": item.version},
        "department": {"code": item.department.uscc, "name": item.department.name},
        "submitted_at": receipt.json()["submitted_at"],
        "applicant_id_masked": "3****************4",
        "track_url": "http://testserver/track/",
    }
    # now it is the person's
    assert api_of(citizen).get(url).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"name": "王大明"}, "id_number", "identity_mismatch"),
        ({"document_seen": False}, "document_seen", "invalid"),
        ({"department": "91330000MA27U0000X"}, "department", "invalid"),
        ({"id_number": "123"}, "id_number", "validation_error"),
    ],
)
def test_bad_input_is_refused_naming_it_and_records_nothing(item, clerk, overrides, field, code):
    answer = api_of(clerk).post(COUNTER, person(item, **overrides), format="json")

    assert answer.status_code == 400
    assert answer.json()["code"] == code
    assert field in answer.json()["fields"]
    assert Application.objects.count() == 0


def test_the_document_check_is_said_in_chinese(item, clerk):
    answer = api_of(clerk).post(COUNTER, person(item, document_seen=False), format="json")

    assert answer.json()["fields"]["document_seen"] == ["请核验证件原件，并确认与本人一致。"]


def test_a_service_of_another_department_is_refused(item, clerk, other_department, other_clerk):
    answer = api_of(other_clerk).post(COUNTER, person(item, department=other_department.uscc), format="json")

    assert answer.status_code == 400
    assert list(answer.json()["fields"]) == ["service"]
    assert Application.objects.count() == 0


@pytest.mark.parametrize(
    ("who", "totp", "status", "code"),
    [
        ("anonymous", False, 403, "not_authenticated"),
        ("citizen", False, 403, "not_staff"),
        ("clerk", False, 403, "mfa_required"),
    ],
)
def test_only_staff_with_totp_use_the_counter(request, item, who, totp, status, code):
    client = api_of(None if who == "anonymous" else request.getfixturevalue(who), totp=totp)

    answer = client.post(COUNTER, person(item), format="json")

    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert Application.objects.count() == 0


@pytest.mark.parametrize("who", ["other_clerk", "supervisor", "citizen"])
def test_nobody_but_the_recording_clerk_reads_the_receipt_or_the_draft(request, item, clerk, who):
    client = api_of(clerk)
    client.post(COUNTER, person(item), format="json")
    draft = Application.objects.get()
    url = f"{APPLICATIONS}{draft.public_id}/"
    client.patch(url, {"data": ANSWERS}, format="json")
    client.post(f"{url}attachments/", {"material": "photo", "file": pdf_upload()}, format="multipart")
    other = api_of(request.getfixturevalue(who))

    before = [other.get(url), other.patch(url, {"data": {"phone": "13900000000"}}, format="json")]
    client.post(f"{url}submit/", {}, format="json", HTTP_IDEMPOTENCY_KEY="counter-1")
    receipt = other.get(f"{COUNTER}{draft.public_id}/receipt/")

    assert [answer.status_code for answer in before] == [404, 404]
    assert (receipt.status_code, receipt.json()["code"]) == (
        (403, "not_staff") if who == "citizen" else (404, "not_found")
    )
    assert Application.objects.get().data["phone"] == "13712349050"


def test_a_draft_has_no_receipt_yet(item, clerk):
    client = api_of(clerk)
    client.post(COUNTER, person(item), format="json")

    answer = client.get(f"{COUNTER}{Application.objects.get().public_id}/receipt/")

    assert answer.status_code == 404
