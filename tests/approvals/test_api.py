"""The applications API: drafts prefilled from the registries, files, an idempotent submit, my list, 补正, tracking."""

from __future__ import annotations

import datetime
import hashlib
import threading
import uuid
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Enterprise, RealNameLevel, User
from approvals.applications import actions, submission
from approvals.models import Application, ApplicationEvent, Attachment, IdempotencyRecord, NumberSequence, Outbox
from core import crypto
from datahub.demo_data import WANG_XIAOMING, WANG_YUTONG, YIWANG_TECHNOLOGY
from datahub.models import LegalPersonKind
from services.models import ServiceItem
from tests.approvals.builders import PDF, complete_answers, make_applicable_item, pdf_upload, ready_draft, submitted
from tests.datahub.builders import make_wang_household
from tests.factories import email_user
from tests.helpers import assert_query_count, get_counting_queries

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

APPLICATIONS = "/api/v1/applications/"
TRACK = "/api/v1/track/"
# What the population registry knows of 王小明, and the draft is filled with.
WANG_ANSWERS = {
    "applicant_name": "王小明",
    "applicant_id_number": WANG_XIAOMING.id_number,
    "gender": "male",
    "household_address": {"region": "330106000000", "detail": WANG_XIAOMING.address},
}
WANG_SOURCES = dict.fromkeys(WANG_ANSWERS, "population")
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
NOT_AUTHENTICATED = {"code": "not_authenticated", "message": "身份认证信息未提供。", "fields": {}}


def url(application: Application, action: str = "") -> str:
    return f"{APPLICATIONS}{application.public_id}/" + (f"{action}/" if action else "")


def local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).isoformat()


def submit(client: APIClient, application: Application, key: str = "key-1", body: Any = None, **extra: Any) -> Any:
    return client.post(url(application, "submit"), body or {}, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


@pytest.fixture
def item(department):
    """The residence certificate service of 杭州市市场监督管理局, with 王小明's household in the population registry."""
    make_wang_household()
    return make_applicable_item(department=department)


@pytest.fixture
def citizen_api(citizen) -> APIClient:
    client = APIClient()
    client.force_login(citizen)
    return client


@pytest.fixture
def other_api(other_citizen) -> APIClient:
    client = APIClient()
    client.force_login(other_citizen)
    return client


# --- Who may do what ---------------------------------------------------------------

ENDPOINTS = [
    # method, action, body, format, owner's status on a ready draft
    ("get", "", None, None, 200),
    ("patch", "", {"data": {"phone": "13800001111"}}, "json", 200),
    ("post", "attachments", "file", "multipart", 201),
    ("post", "submit", {}, "json", 200),
    ("post", "withdraw", {}, "json", 409),  # a draft is not withdrawn: it is deleted
    ("post", "supplement", {"data": {"phone": "13800001111"}}, "json", 409),
]


def _call(client: APIClient, application: Application, method: str, action: str, body: Any, format: str | None):
    if body == "file":
        body = {"material": "proxy", "file": pdf_upload()}
    return getattr(client, method)(url(application, action), body, format=format, HTTP_IDEMPOTENCY_KEY="matrix")


@pytest.mark.parametrize(("method", "action", "body", "format", "owner_status"), ENDPOINTS)
def test_only_the_owner_reaches_an_application(
    citizen, item, citizen_api, other_api, method, action, body, format, owner_status
):
    draft = ready_draft(citizen, item)

    anonymous = _call(APIClient(), draft, method, action, body, format)
    other = _call(other_api, draft, method, action, body, format)
    unchanged = Application.objects.get(pk=draft.pk)
    files = unchanged.attachments.count()
    owner = _call(citizen_api, draft, method, action, body, format)

    assert (anonymous.status_code, anonymous.json()) == (403, NOT_AUTHENTICATED)
    assert other.status_code == 404
    assert other.json()["code"] == "not_found"
    assert (unchanged.status, unchanged.data, files) == (draft.status, draft.data, 1)
    assert owner.status_code == owner_status


def test_anonymous_gets_what_the_me_endpoint_gives(item):
    me = APIClient().get("/api/v1/me/")
    mine = APIClient().get(APPLICATIONS)
    start = APIClient().post(APPLICATIONS, {"service": item.implementation_code}, format="json")

    assert (mine.status_code, mine.json()) == (me.status_code, me.json()) == (403, NOT_AUTHENTICATED)
    assert (start.status_code, start.json()) == (403, NOT_AUTHENTICATED)
    assert Application.objects.count() == 0


def test_another_citizens_list_does_not_show_my_applications(citizen, other_citizen, item, other_api):
    ready_draft(citizen, item)

    response = other_api.get(APPLICATIONS)

    assert response.json() == {"results": [], "next": None, "previous": None}


# --- Starting a draft --------------------------------------------------------------


def test_a_new_draft_is_prefilled_from_the_population_registry(citizen, item, citizen_api):
    response = citizen_api.post(APPLICATIONS, {"service": item.implementation_code, "acting_for": None}, format="json")

    assert response.status_code == 201
    body = response.json()
    application = Application.objects.get()
    assert body["id"] == str(application.public_id)
    assert (body["number"], body["status"], body["status_display"]) == (None, "draft", "草稿")
    assert body["data"] == WANG_ANSWERS
    assert body["prefilled"] == WANG_SOURCES
    assert body["service"] == {"code": item.implementation_code, "name": "居住证明开具", "version": 1}
    assert body["department"] == {"uscc": item.department.uscc, "name": "杭州市市场监督管理局"}
    assert body["acting_for"] is None
    assert body["query_password"] is None
    assert [(entry["code"], entry["satisfied_by"]) for entry in body["materials"]] == [
        ("household_record", "registry"),
        ("photo", ""),
        ("proxy", ""),
    ]
    assert [event["action"] for event in body["timeline"]] == ["created", "prefilled"]
    assert (application.applicant, application.channel) == (citizen, "3")


def test_a_new_draft_takes_the_answers_sent_with_it(item, citizen_api):
    response = citizen_api.post(
        APPLICATIONS, {"service": item.implementation_code, "data": {"phone": "13712349050"}}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["data"] == {**WANG_ANSWERS, "phone": "13712349050"}


def test_a_new_draft_with_a_wrong_answer_is_not_kept(item, citizen_api):
    response = citizen_api.post(
        APPLICATIONS,
        {"service": item.implementation_code, "data": {"phone": "12345", "favourite_colour": "red"}},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "validation_error",
        "message": "The form has no such fields.",
        "fields": {"favourite_colour": ["This form has no such field."]},
    }
    assert Application.objects.count() == 0


def test_an_unknown_service_is_not_found(citizen_api, item):
    response = citizen_api.post(APPLICATIONS, {"service": "1" * 31}, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert response.json() == {
        "code": "service_not_found",
        "message": "No published service has this code.",
        "fields": {},
    }


def test_the_service_code_is_required(citizen_api):
    response = citizen_api.post(APPLICATIONS, {"data": {}}, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "Some values are not valid.",
        "fields": {"service": ["This field is required."]},
    }


def test_below_the_real_name_level_the_refusal_says_where_to_upgrade(department, other_citizen, other_api):
    make_wang_household()
    item = make_applicable_item(department=department, min_real_name_level=3)
    unverified = email_user("new@example.com", real_name_level=RealNameLevel.UNVERIFIED)
    unverified_api = APIClient()
    unverified_api.force_login(unverified)

    basic = other_api.post(
        APPLICATIONS, {"service": item.implementation_code}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    none = unverified_api.post(APPLICATIONS, {"service": item.implementation_code}, format="json")

    assert basic.status_code == 403
    assert basic.json() == {
        "code": "real_name_level_too_low",
        "message": "Applying for this service needs real-name level 3; your account is at level 2.",
        "fields": {},
        "upgrade_url": "http://testserver/en/me/verify/face/",
    }
    assert none.status_code == 403
    assert none.json()["code"] == "real_name_level_too_low"
    assert none.json()["upgrade_url"] == "http://testserver/me/verify/"
    assert Application.objects.count() == 0


def test_a_draft_for_an_enterprise_the_user_acts_for(citizen, other_citizen, department, citizen_api, other_api):
    make_wang_household()
    item = make_applicable_item(department=department, served_parties=["1", "2"])
    enterprise = Enterprise.objects.create(
        uscc=YIWANG_TECHNOLOGY.uscc, name=YIWANG_TECHNOLOGY.name, kind=LegalPersonKind.ENTERPRISE
    )
    Enterprise.objects.filter(pk=enterprise.pk).update(legal_representative=citizen)

    mine = citizen_api.post(
        APPLICATIONS, {"service": item.implementation_code, "acting_for": enterprise.uscc}, format="json"
    )
    not_mine = other_api.post(
        APPLICATIONS, {"service": item.implementation_code, "acting_for": enterprise.uscc}, format="json"
    )
    unknown = citizen_api.post(
        APPLICATIONS, {"service": item.implementation_code, "acting_for": "91330106MA2CYW0000"}, format="json"
    )

    assert mine.status_code == 201
    assert mine.json()["acting_for"] == YIWANG_TECHNOLOGY.uscc
    assert Application.objects.get().acting_for == enterprise
    assert not_mine.status_code == unknown.status_code == 404
    assert not_mine.json()["code"] == unknown.json()["code"] == "not_found"
    assert other_api.get(f"{APPLICATIONS}{mine.json()['id']}/").status_code == 404


# --- Filling it in -----------------------------------------------------------------


def test_patch_saves_answers_and_an_empty_one_clears_a_field(citizen, item, citizen_api):
    draft = actions.application_draft_start(user=citizen, service_code=item.implementation_code)

    response = citizen_api.patch(
        url(draft), {"data": {"phone": "13712349050", "gender": ""}}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    expected = {key: value for key, value in WANG_ANSWERS.items() if key != "gender"}
    assert response.json()["data"] == {**expected, "phone": "13712349050"}
    assert Application.objects.get(pk=draft.pk).data == {**expected, "phone": "13712349050"}


def test_patch_with_a_wrong_answer_says_which_and_changes_nothing(citizen, item, citizen_api):
    draft = actions.application_draft_start(user=citizen, service_code=item.implementation_code)

    response = citizen_api.patch(url(draft), {"data": {"phone": "12345"}}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    not_an_object = citizen_api.patch(url(draft), {"data": ["phone"]}, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["message"], list(body["fields"])) == (
        "validation_error",
        "Some answers need correcting.",
        ["phone"],
    )
    assert len(body["fields"]["phone"]) == 1
    assert not_an_object.status_code == 400
    assert not_an_object.json()["fields"] == {"data": ['Expected a dictionary of items but got type "list".']}
    assert Application.objects.get(pk=draft.pk).data == WANG_ANSWERS


def test_opening_a_draft_of_a_retired_version_moves_it_to_the_published_one(citizen, department, item, citizen_api):
    draft = actions.application_draft_start(user=citizen, service_code=item.implementation_code)
    ServiceItem.objects.filter(pk=item.pk).update(status=ServiceItem.Status.RETIRED)
    make_applicable_item(department=department, version=2, change_note="")

    body = citizen_api.get(url(draft), HTTP_ACCEPT_LANGUAGE="en").json()

    assert body["service"] == {"code": item.implementation_code, "name": "居住证明开具", "version": 2}
    assert body["version_notice"] == "The service was updated to version 2."
    assert body["data"] == WANG_ANSWERS
    assert body["timeline"][-1]["action"] == "version_changed"


def test_a_submitted_application_cannot_be_patched(citizen, item, citizen_api):
    application = submitted(citizen, item)

    response = citizen_api.patch(url(application), {"data": {"phone": "13800001111"}}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "wrong_status"


def test_upload_a_material(citizen, item, citizen_api):
    draft = actions.application_draft_start(user=citizen, service_code=item.implementation_code)

    response = citizen_api.post(
        url(draft, "attachments"), {"material": "photo", "file": pdf_upload("照片.pdf")}, format="multipart"
    )

    assert response.status_code == 201
    attachment = Attachment.objects.get()
    assert response.json() == {
        "id": str(attachment.public_id),
        "material": "photo",
        "field": "",
        "name": "照片.pdf",
        "content_type": "application/pdf",
        "size": len(PDF),
        "sha256": hashlib.sha256(PDF).hexdigest(),
    }
    photo = next(entry for entry in citizen_api.get(url(draft)).json()["materials"] if entry["code"] == "photo")
    assert (photo["satisfied_by"], photo["attachment_id"]) == ("upload", str(attachment.public_id))


def test_a_program_named_pdf_is_refused(citizen, item, citizen_api):
    draft = actions.application_draft_start(user=citizen, service_code=item.implementation_code)

    response = citizen_api.post(
        url(draft, "attachments"),
        {"material": "photo", "file": pdf_upload("scan.pdf", EXE)},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "upload_executable",
        "message": "Programs and scripts cannot be uploaded. Allowed: PDF, JPEG, PNG files of at most 10 MB.",
        "fields": {},
    }
    assert Attachment.objects.count() == 0


def test_an_upload_needs_a_known_material_and_a_file(citizen, item, citizen_api):
    draft = actions.application_draft_start(user=citizen, service_code=item.implementation_code)

    unknown = citizen_api.post(
        url(draft, "attachments"),
        {"material": "passport", "file": pdf_upload()},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    no_file = citizen_api.post(
        url(draft, "attachments"), {"material": "photo"}, format="multipart", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert unknown.status_code == no_file.status_code == 400
    assert unknown.json()["fields"] == {"material": ["This service has no such material."]}
    assert no_file.json()["fields"] == {"file": ["No file was submitted."]}
    assert Attachment.objects.count() == 0


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
        "department": {"uscc": item.department.uscc, "name": "杭州市市场监督管理局"},
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


def _track(client: APIClient, number: str, password: str, **extra: Any) -> Any:
    return client.post(TRACK, {"number": number, "password": password}, format="json", **extra)


def test_track_with_the_number_and_password_shows_progress_without_personal_data(citizen, item):
    application = submitted(citizen, item)
    password = crypto.decrypt(application.query_password_encrypted)
    event = application.events.get(action="submitted")

    # An app without a session or CSRF token, as a phone would post it.
    response = _track(
        APIClient(enforce_csrf_checks=True), application.number.lower(), password, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    assert response.json() == {
        "number": application.number,
        "service": {"code": item.implementation_code, "name": "居住证明开具", "version": 1},
        "department": {"uscc": item.department.uscc, "name": "杭州市市场监督管理局"},
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

    response = _track(client, application.number, crypto.decrypt(application.query_password_encrypted))

    assert response.status_code == 200


def test_track_with_a_wrong_pair_says_nothing_more(citizen, item):
    application = submitted(citizen, item)
    password = crypto.decrypt(application.query_password_encrypted)
    wrong = f"{(int(password) + 1) % 10**6:06d}"

    wrong_password = _track(APIClient(), application.number, wrong, HTTP_ACCEPT_LANGUAGE="en")
    no_such_number = _track(APIClient(), item.implementation_code + "202001010001", password, HTTP_ACCEPT_LANGUAGE="en")

    expected = {"code": "not_found", "message": "No application matches this number and query password.", "fields": {}}
    assert (wrong_password.status_code, wrong_password.json()) == (404, expected)
    assert (no_such_number.status_code, no_such_number.json()) == (404, expected)


def test_track_locks_a_number_after_too_many_wrong_passwords(citizen, item, settings):
    settings.TRACK_FAILURES_PER_NUMBER = 2
    application = submitted(citizen, item)
    password = crypto.decrypt(application.query_password_encrypted)
    wrong = f"{(int(password) + 1) % 10**6:06d}"

    failures = [_track(APIClient(), application.number, wrong).status_code for _ in range(2)]
    right_but_locked = _track(APIClient(), application.number, password, HTTP_ACCEPT_LANGUAGE="en")

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

    first = _track(APIClient(), application.number, password)
    second = _track(APIClient(), application.number, password)

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
