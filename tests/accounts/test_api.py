"""The account over the API: real-name verification, the enterprises I act for, and a representative's agents."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import actions
from accounts.models import AgentAuthorisation, Enterprise, FaceCheck, RealNameLevel, User
from datahub.identity import IdentityType
from datahub.models import LegalPersonRecord
from demo.registries import legal_person_record, seed_registries
from demo.registry_data import WANG_XIAOMING, YIWANG_TECHNOLOGY, ZHOU_XINYU
from tests.factories import email_user

pytestmark = pytest.mark.django_db

USCC = YIWANG_TECHNOLOGY.uscc
REAL_NAME = "/api/v1/me/real-name/"
FACE_CHECK = "/api/v1/me/real-name/face-check/"
ENTERPRISES = "/api/v1/enterprises/"
AGENTS = f"{ENTERPRISES}{USCC}/agents/"
NOT_AUTHENTICATED = {"code": "not_authenticated", "message": "身份认证信息未提供。", "fields": {}}


def _client(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def registry(db: None) -> LegalPersonRecord:
    record = legal_person_record(YIWANG_TECHNOLOGY)
    record.save()
    return record


@pytest.fixture
def claimed(registry: LegalPersonRecord, legal_rep: User) -> Enterprise:
    return actions.enterprise_claim(uscc=USCC, actor=legal_rep)


def _authorise(enterprise: Enterprise, agent: User, actor: User, **overrides: Any) -> AgentAuthorisation:
    values: dict[str, Any] = {
        "scope": "all",
        "item_codes": [],
        "valid_from": timezone.localdate(),
        "valid_to": None,
    } | overrides
    return actions.agent_authorise(enterprise_id=enterprise.pk, agent_email=agent.email, actor=actor, **values)


# --- Real-name verification ----------------------------------------------------------


def test_a_newcomer_reads_the_next_step_and_verifies_against_the_registry(db):
    seed_registries()
    newcomer = email_user("zhou@example.com")
    client = _client(newcomer)

    before = client.get(REAL_NAME)
    verified = client.post(
        REAL_NAME,
        {
            "full_name": ZHOU_XINYU.name,
            "id_type": IdentityType.RESIDENT_ID.value,
            "id_number": ZHOU_XINYU.id_number,
            "phone": ZHOU_XINYU.phone,
        },
        format="json",
    )

    assert before.json() == {
        "level": 1,
        "level_display": "非实名",
        "masked_name": "z***@example.com",
        "next_step": "basic",
    }
    assert verified.status_code == 200
    assert verified.json()["level"] == 2
    assert verified.json()["next_step"] == "face_check"
    assert User.objects.get(pk=newcomer.pk).real_name_level == RealNameLevel.BASIC


def test_a_registry_mismatch_or_a_bad_value_changes_nothing(db):
    seed_registries()
    newcomer = email_user("zhou@example.com")
    client = _client(newcomer)
    answers = {"full_name": "周某", "id_number": ZHOU_XINYU.id_number, "phone": ZHOU_XINYU.phone}

    mismatch = client.post(REAL_NAME, answers, format="json")
    bad_phone = client.post(REAL_NAME, {**answers, "phone": "123"}, format="json")
    missing = client.post(REAL_NAME, {}, format="json")

    assert mismatch.status_code == 400
    assert mismatch.json()["code"] == "registry_mismatch"
    assert mismatch.json()["message"].startswith("人口库")
    assert bad_phone.json()["code"] == "phone"
    assert list(bad_phone.json()["fields"]) == ["phone"]
    assert missing.json()["code"] == "invalid"
    assert set(missing.json()["fields"]) == {"full_name", "id_number", "phone"}
    assert User.objects.get(pk=newcomer.pk).real_name_level == RealNameLevel.UNVERIFIED


def test_a_verified_account_is_not_verified_twice(citizen):
    seed_registries()
    answers = {"full_name": WANG_XIAOMING.name, "id_number": WANG_XIAOMING.id_number, "phone": WANG_XIAOMING.phone}

    answer = _client(citizen).post(REAL_NAME, answers, format="json")

    assert (answer.status_code, answer.json()["code"]) == (409, "already_verified")
    assert _client(citizen).get(REAL_NAME).json()["next_step"] is None
    assert User.objects.get(pk=citizen.pk).real_name_level == RealNameLevel.ADVANCED


def test_a_basic_account_starts_a_face_check_and_is_given_the_provider_s_page(other_citizen, settings):
    settings.FACE_CHECK_PROVIDER = "accounts.face_check.DemoFaceCheckProvider"
    settings.FACE_CHECK_DEMO = True
    client = _client(other_citizen)

    started = client.post(FACE_CHECK, {}, format="json")

    check = FaceCheck.objects.get()
    assert started.status_code == 201
    assert started.json()["id"] == str(check.pk)
    assert f"/me/verify/face/demo/{check.pk}/" in started.json()["provider_url"]
    assert check.user == other_citizen
    assert check.status == FaceCheck.Status.PENDING


def test_an_advanced_account_starts_no_face_check(citizen):
    answer = _client(citizen).post(FACE_CHECK, {}, format="json")

    assert answer.status_code == 409
    assert answer.json()["code"] == "already_advanced"
    assert FaceCheck.objects.count() == 0


@pytest.mark.parametrize(("method", "url"), [("get", REAL_NAME), ("post", REAL_NAME), ("post", FACE_CHECK)])
def test_real_name_needs_a_signed_in_user(db, method, url):
    answer = getattr(APIClient(), method)(url, {}, format="json")

    assert answer.status_code == 403
    assert answer.json() == NOT_AUTHENTICATED


# --- Enterprises and agents ------------------------------------------------------------


def test_the_legal_representative_claims_and_lists_the_enterprise(registry, legal_rep):
    client = _client(legal_rep)

    claimed = client.post(ENTERPRISES, {"uscc": USCC}, format="json")
    again = client.post(ENTERPRISES, {"uscc": USCC}, format="json")
    listed = client.get(ENTERPRISES)

    mine = {"uscc": USCC, "name": YIWANG_TECHNOLOGY.name, "kind": registry.kind}
    assert claimed.status_code == 201
    assert claimed.json() == {**mine, "is_legal_representative": True, "item_codes": None}
    assert again.status_code == 409
    assert again.json()["code"] == "already_claimed"
    assert listed.json() == {
        "results": [{**mine, "is_legal_representative": True, "item_codes": None}],
        "next": None,
        "previous": None,
    }


def test_someone_the_registry_does_not_name_cannot_claim(registry, other_citizen):
    answer = _client(other_citizen).post(ENTERPRISES, {"uscc": USCC}, format="json")

    assert answer.status_code == 400
    assert answer.json()["code"] == "not_legal_representative"
    assert list(answer.json()["fields"]) == ["uscc"]
    assert Enterprise.objects.filter(legal_representative__isnull=False).count() == 0


def test_the_representative_grants_lists_and_revokes_an_agent(claimed, legal_rep, enterprise_agent):
    client = _client(legal_rep)
    item = "11330100002493158X3000000000001"

    granted = client.post(
        AGENTS,
        {"agent_email": enterprise_agent.email, "scope": "listed", "item_codes": [item]},
        format="json",
    )
    agent_view = _client(enterprise_agent).get(ENTERPRISES).json()["results"]
    listed = client.get(AGENTS).json()
    authorisation_id = granted.json()["id"]
    revoked = client.post(f"{AGENTS}{authorisation_id}/revoke/", {"reason": "离职"}, format="json")
    twice = client.post(f"{AGENTS}{authorisation_id}/revoke/", {}, format="json")

    assert granted.status_code == 201
    assert granted.json()["agent"] == {"masked_name": enterprise_agent.masked_name, "email": enterprise_agent.email}
    assert granted.json()["scope"] == "listed"
    assert granted.json()["item_codes"] == [item]
    assert granted.json()["valid_from"] == timezone.localdate().isoformat()
    assert granted.json()["is_active"] is True
    assert agent_view == [
        {
            "uscc": USCC,
            "name": claimed.name,
            "kind": claimed.kind,
            "is_legal_representative": False,
            "item_codes": [item],
        }
    ]
    assert [entry["id"] for entry in listed] == [authorisation_id]
    assert revoked.status_code == 200
    assert revoked.json()["revoke_reason"] == "离职"
    assert revoked.json()["is_active"] is False
    assert twice.status_code == 409
    assert twice.json()["code"] == "already_revoked"
    assert _client(enterprise_agent).get(ENTERPRISES).json()["results"] == []


def test_a_bad_grant_changes_nothing_and_names_the_field(claimed, legal_rep, enterprise_agent):
    client = _client(legal_rep)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)

    unknown = client.post(AGENTS, {"agent_email": "nobody@example.com"}, format="json")
    listed_without_codes = client.post(
        AGENTS, {"agent_email": enterprise_agent.email, "scope": "listed"}, format="json"
    )
    past = client.post(
        AGENTS, {"agent_email": enterprise_agent.email, "valid_to": yesterday.isoformat()}, format="json"
    )
    not_an_email = client.post(AGENTS, {"agent_email": "x"}, format="json")

    assert (unknown.status_code, list(unknown.json()["fields"])) == (400, ["agent_email"])
    assert unknown.json()["code"] == "agent_unknown"
    assert listed_without_codes.json()["code"] == "item_codes_required"
    assert list(past.json()["fields"]) == ["valid_to"]
    assert not_an_email.json()["code"] == "invalid"
    assert AgentAuthorisation.objects.count() == 0


@pytest.mark.parametrize("who", ["anonymous", "enterprise_agent", "other_citizen", "clerk", "citizen"])
def test_only_the_representative_sees_or_changes_the_agents(claimed, legal_rep, enterprise_agent, who, request):
    authorisation = _authorise(claimed, enterprise_agent, legal_rep)
    client = _client(None if who == "anonymous" else request.getfixturevalue(who))

    reads = client.get(AGENTS)
    grants = client.post(AGENTS, {"agent_email": "citizen@example.com"}, format="json")
    revokes = client.post(f"{AGENTS}{authorisation.pk}/revoke/", {}, format="json")

    for answer in (reads, grants, revokes):
        if who == "anonymous":
            assert (answer.status_code, answer.json()) == (403, NOT_AUTHENTICATED)
        else:
            assert (answer.status_code, answer.json()["code"]) == (404, "enterprise_not_found")
    assert AgentAuthorisation.objects.get().revoked_at is None
    assert AgentAuthorisation.objects.count() == 1


def test_an_authorisation_of_another_enterprise_is_not_revoked_through_this_one(
    claimed, legal_rep, enterprise_agent, db
):
    other = Enterprise.objects.create(uscc="91330100MA2XXXXX0X", name="另一公司", kind=claimed.kind)
    Enterprise.objects.filter(pk=other.pk).update(legal_representative=legal_rep)
    foreign = _authorise(other, enterprise_agent, legal_rep)

    answer = _client(legal_rep).post(f"{AGENTS}{foreign.pk}/revoke/", {}, format="json")

    assert (answer.status_code, answer.json()["code"]) == (404, "authorisation_not_found")
    assert AgentAuthorisation.objects.get().revoked_at is None


def test_the_account_endpoints_are_in_the_schema(client):
    paths = client.get("/api/schema/?format=json").json()["paths"]

    assert set(paths[REAL_NAME]) == {"get", "post"}
    assert set(paths[FACE_CHECK]) == {"post"}
    assert set(paths[ENTERPRISES]) == {"get", "post"}
    assert set(paths["/api/v1/enterprises/{uscc}/agents/"]) == {"get", "post"}
    assert set(paths["/api/v1/enterprises/{uscc}/agents/{authorisation_id}/revoke/"]) == {"post"}
