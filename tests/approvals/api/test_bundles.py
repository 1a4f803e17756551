"""一件事 bundles over the API: what is offered, and a citizen's bundle from start to submission, theirs alone."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import RealNameLevel
from approvals.bundles import actions as bundle_actions
from approvals.models import Application, Attachment, BundleApplication
from demo.registry_data import WANG_XIAOMING
from services.models import Audience, Bundle, Department, ServiceItem
from tests.approvals.api.helpers import NOT_AUTHENTICATED
from tests.approvals.builders import complete_answers, make_applicable_item, pdf_upload
from tests.datahub.builders import make_wang_household
from tests.helpers import assert_query_count, get_counting_queries

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("upload_root", "unsent")]

BUNDLES = "/api/v1/bundles/"
MINE = "/api/v1/bundle-applications/"


@pytest.fixture
def residence(department: Department) -> ServiceItem:
    return make_applicable_item(department=department, name="居住证明开具")


@pytest.fixture
def second(other_department: Department) -> ServiceItem:
    return make_applicable_item(department=other_department, name="居住登记")


@pytest.fixture
def bundle(residence: ServiceItem, second: ServiceItem) -> Bundle:
    make_wang_household()
    return Bundle.objects.create(
        slug="move",
        name="迁居一件事",
        audience=Audience.PERSON,
        description="一次填报、一次提交。",
        item_codes=[residence.implementation_code, second.implementation_code],
    )


def _mine(bundle: BundleApplication, action: str = "") -> str:
    return f"{MINE}{bundle.public_id}/" + (f"{action}/" if action else "")


def test_the_bundles_offered_are_listed_and_read_without_login(bundle, residence, second, department):
    Bundle.objects.create(slug="retired", name="旧一件事", audience=Audience.PERSON, is_active=False)
    client = APIClient()

    listed = client.get(BUNDLES)
    one = client.get(f"{BUNDLES}move/")

    assert listed.status_code == 200
    assert listed.json()["results"] == [
        {
            "slug": "move",
            "name": "迁居一件事",
            "audience": "person",
            "theme": None,
            "description": "一次填报、一次提交。",
            "item_codes": [residence.implementation_code, second.implementation_code],
        }
    ]
    body = one.json()
    assert one.status_code == 200
    assert [item["code"] for item in body["items"]] == [residence.implementation_code, second.implementation_code]
    assert body["items"][0]["department"] == {"code": department.uscc, "name": "杭州市市场监督管理局"}
    assert body["min_real_name_level"] == 2
    assert [material["code"] for material in body["materials"]] == [entry["code"] for entry in residence.materials]
    assert client.get(f"{BUNDLES}retired/").json()["code"] == "bundle_not_found"
    assert client.get(f"{BUNDLES}retired/").status_code == 404


def test_a_citizen_starts_fills_uploads_once_and_submits_a_bundle(bundle, citizen, residence, second):
    client = APIClient()
    client.force_login(citizen)

    started = client.post(f"{BUNDLES}move/apply/", {}, format="json")
    draft = BundleApplication.objects.get()
    filled = client.patch(_mine(draft), {"data": complete_answers()}, format="json")
    uploaded = client.post(_mine(draft, "attachments"), {"material": "photo", "file": pdf_upload()}, format="multipart")
    submitted = client.post(_mine(draft, "submit"), {}, format="json", HTTP_IDEMPOTENCY_KEY="bundle-key-1")
    again = client.post(_mine(draft, "submit"), {}, format="json", HTTP_IDEMPOTENCY_KEY="bundle-key-1")

    assert started.status_code == 201
    assert started.json()["status"] == "draft"
    assert started.json()["data"]["applicant_name"] == WANG_XIAOMING.name
    assert started.json()["prefilled"]["applicant_name"] == "population"
    assert [child["service"]["code"] for child in started.json()["children"]] == [
        residence.implementation_code,
        second.implementation_code,
    ]
    assert filled.status_code == 200
    assert filled.json()["data"]["phone"] == "13712349050"
    assert uploaded.status_code == 201
    assert len(uploaded.json()) == 2  # one checked copy for each item
    assert Attachment.objects.filter(material_code="photo").count() == 2
    assert submitted.status_code == 200
    body = submitted.json()
    assert body["status"] == "submitted"
    assert body["status_display"] == "已提交"
    assert {child["status"] for child in body["children"]} == {"submitted"}
    assert all(child["number"] for child in body["children"])
    assert again.status_code == 200
    assert again.json()["children"] == body["children"]
    assert Application.objects.filter(status=Application.Status.SUBMITTED).count() == 2
    listed = client.get(MINE).json()["results"]
    assert [(entry["id"], entry["status"]) for entry in listed] == [(str(draft.public_id), "submitted")]
    assert client.get(MINE, {"status": "draft"}).json()["results"] == []


def test_bad_input_changes_nothing_and_is_said_in_the_error_body(bundle, citizen):
    client = APIClient()
    client.force_login(citizen)
    draft = bundle_actions.bundle_draft_start(user=citizen, slug="move")

    wrong = client.patch(_mine(draft), {"data": {"phone": "12"}}, format="json")
    early = client.post(_mine(draft, "submit"), {}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    keyless = client.post(_mine(draft, "submit"), {}, format="json")
    status = client.get(MINE, {"status": "lost"})

    assert wrong.status_code == 400
    assert wrong.json()["code"] == "validation_error"
    assert set(wrong.json()["fields"]) == {"phone"}
    assert early.status_code == 400
    assert early.json()["code"] == "validation_error"
    assert keyless.status_code == 400
    assert keyless.json()["code"] == "idempotency_key_required"
    assert status.status_code == 400
    assert set(status.json()["fields"]) == {"status"}
    assert all("phone" not in child.data for child in Application.objects.all())
    assert BundleApplication.objects.get().status == BundleApplication.Status.DRAFT


def test_a_level_too_low_is_refused_with_where_to_raise_it(bundle, second, citizen):
    ServiceItem.objects.filter(pk=second.pk).update(min_real_name_level=RealNameLevel.ADVANCED + 1)
    client = APIClient()
    client.force_login(citizen)

    refused = client.post(f"{BUNDLES}move/apply/", {}, format="json")

    assert refused.status_code == 403
    assert refused.json()["code"] == "real_name_level_too_low"
    assert refused.json()["message"].startswith("居住登记")
    assert refused.json()["upgrade_url"] == "http://testserver/me/verify/face/"
    assert BundleApplication.objects.count() == 0


@pytest.mark.parametrize("who", ["anonymous", "other_citizen", "clerk", "enterprise_agent", "supervisor"])
def test_nobody_else_sees_or_changes_a_citizen_s_bundle(bundle, citizen, who, request):
    draft = bundle_actions.bundle_draft_start(user=citizen, slug="move")
    client = APIClient()
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    expected = 403 if who == "anonymous" else 404
    calls: list[tuple[str, str, Any]] = [
        ("get", _mine(draft), None),
        ("patch", _mine(draft), {"data": {"phone": "13900000000"}}),
        ("delete", _mine(draft), None),
        ("post", _mine(draft, "submit"), {}),
    ]

    for method, url, body in calls:
        answer = getattr(client, method)(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
        assert answer.status_code == expected, (method, url)
        if who == "anonymous":
            assert answer.json() == NOT_AUTHENTICATED
        else:
            assert answer.json()["code"] == "not_found"
    upload = client.post(_mine(draft, "attachments"), {"material": "photo", "file": pdf_upload()}, format="multipart")
    assert upload.status_code == expected
    assert client.get(MINE).status_code == (403 if who == "anonymous" else 200)
    if who != "anonymous":
        assert client.get(MINE).json()["results"] == []
    assert BundleApplication.objects.get().status == BundleApplication.Status.DRAFT
    assert Attachment.objects.count() == 0
    assert all("phone" not in child.data for child in Application.objects.all())


def test_a_draft_is_deleted_by_its_owner(bundle, citizen):
    client = APIClient()
    client.force_login(citizen)
    draft = bundle_actions.bundle_draft_start(user=citizen, slug="move")

    deleted = client.delete(_mine(draft))

    assert deleted.status_code == 204
    assert BundleApplication.objects.count() == 0
    assert Application.objects.count() == 0


def test_my_bundles_list_has_a_fixed_number_of_queries(bundle, citizen):
    client = APIClient()
    client.force_login(citizen)
    bundle_actions.bundle_draft_start(user=citizen, slug="move")
    _answer, few = get_counting_queries(client, MINE)
    for _ in range(3):
        bundle_actions.bundle_draft_start(user=citizen, slug="move")

    answer, many = get_counting_queries(client, MINE)

    assert len(answer.json()["results"]) == 4
    assert_query_count(many, len(few))


def test_the_bundle_endpoints_are_in_the_schema(client):
    paths = client.get("/api/schema/?format=json").json()["paths"]

    assert set(paths[BUNDLES]) == {"get"}
    assert set(paths["/api/v1/bundles/{slug}/"]) == {"get"}
    assert set(paths["/api/v1/bundles/{slug}/apply/"]) == {"post"}
    assert set(paths[MINE]) == {"get"}
    assert set(paths["/api/v1/bundle-applications/{bundle_id}/"]) == {"get", "patch", "delete"}
    assert set(paths["/api/v1/bundle-applications/{bundle_id}/attachments/"]) == {"post"}
    submit = paths["/api/v1/bundle-applications/{bundle_id}/submit/"]["post"]
    assert {parameter["name"] for parameter in submit["parameters"]} == {"bundle_id", "Idempotency-Key"}
