"""The applications API: who may do what, drafts prefilled from the registries, filling them in, files."""

from __future__ import annotations

import hashlib

import pytest
from rest_framework.test import APIClient

from accounts.models import Enterprise, RealNameLevel
from approvals.applications import actions
from approvals.models import Application, Attachment
from datahub.models import LegalPersonKind
from demo.registry_data import YIWANG_TECHNOLOGY
from services.models import ServiceItem
from tests.approvals.api.helpers import (
    APPLICATIONS,
    ENDPOINTS,
    EXE,
    NOT_AUTHENTICATED,
    WANG_ANSWERS,
    WANG_SOURCES,
    call_endpoint,
    url,
)
from tests.approvals.builders import PDF, make_applicable_item, pdf_upload, ready_draft, submitted
from tests.datahub.builders import make_wang_household
from tests.factories import email_user

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


# --- Who may do what ---------------------------------------------------------------


@pytest.mark.parametrize(("method", "action", "body", "format", "owner_status"), ENDPOINTS)
def test_only_the_owner_reaches_an_application(
    citizen, item, citizen_api, other_api, method, action, body, format, owner_status
):
    draft = ready_draft(citizen, item)

    anonymous = call_endpoint(APIClient(), draft, method, action, body, format)
    other = call_endpoint(other_api, draft, method, action, body, format)
    unchanged = Application.objects.get(pk=draft.pk)
    files = unchanged.attachments.count()
    owner = call_endpoint(citizen_api, draft, method, action, body, format)

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
    assert body["department"] == {"code": item.department.uscc, "name": "杭州市市场监督管理局"}
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
        "message": "Applying for this service needs Advanced real-name; your account's level is Basic real-name.",
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
