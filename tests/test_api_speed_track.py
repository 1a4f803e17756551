"""The fast paths of tracking and of my applications: the same answers as DRF gives, the same limits, fewer trips."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.core.cache import caches
from django.utils import timezone, translation
from rest_framework import serializers
from rest_framework.test import APIClient

from accounts import actions as account_actions
from accounts import selectors as account_selectors
from accounts.models import AgentAuthorisation, AuthorisationScope, Enterprise, User
from approvals.applications import actions, api, submission, tracking
from approvals.models import Application
from core import crypto, limits
from datahub.demo_data import LI_JIANGUO, YIWANG_TECHNOLOGY
from services.models import Department, ServiceItem
from tests.approvals.builders import make_applicable_item, make_enterprise_item, submitted
from tests.datahub.builders import make_wang_household, make_yiwang_technology
from tests.factories import email_user, give_identity
from tests.helpers import assert_query_count, get_counting_queries

pytestmark = pytest.mark.django_db

APPLICATIONS = "/api/v1/applications/"
ADDRESS = "203.0.113.9"
ITEM = "11330100002493158X3000000000001"
OTHER_ITEM = "11330100002493158X3000000000002"


@pytest.fixture(autouse=True)
def upload_root(settings: Any, tmp_path: Path) -> Path:
    settings.UPLOAD_ROOT = tmp_path / "uploads"
    settings.UPLOAD_SCANNER = "approvals.uploads.NoScanner"
    return settings.UPLOAD_ROOT


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def item(department: Department) -> ServiceItem:
    make_wang_household()
    return make_applicable_item(department=department)


@pytest.fixture
def legal_rep(db: None) -> User:
    return give_identity(email_user("legalrep@example.com", last_name="李", first_name="建国"), LI_JIANGUO)


@pytest.fixture
def enterprise(legal_rep: User) -> Enterprise:
    make_yiwang_technology()
    return account_actions.enterprise_claim(uscc=YIWANG_TECHNOLOGY.uscc, actor=legal_rep)


def authorise(enterprise: Enterprise, agent: User, legal_rep: User, *, item_codes: list[str]) -> AgentAuthorisation:
    return account_actions.agent_authorise(
        enterprise_id=enterprise.pk,
        agent_email=agent.email,
        scope=AuthorisationScope.LISTED if item_codes else AuthorisationScope.ALL,
        item_codes=item_codes,
        valid_from=timezone.localdate(),
        valid_to=None,
        actor=legal_rep,
    )


def wrong(password: str) -> str:
    return f"{(int(password) + 1) % 10**6:06d}"


# --- What goes out: the same as DRF's field by field way -------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_list_row_is_written_as_the_summary_serializer_gives_it(
    language, citizen, item, enterprise, legal_rep, enterprise_agent, department
):
    sent = submitted(citizen, item)
    Application.objects.filter(pk=sent.pk).update(due_date=datetime.date(2026, 3, 2))
    draft = actions.application_draft_start(user=citizen, service_code=item.implementation_code)
    authorise(enterprise, enterprise_agent, legal_rep, item_codes=[])
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


# --- The guessing limits: one round trip to Redis, the same limits ------------------------


def test_tracking_asks_redis_once_when_the_pair_is_right(citizen, item, monkeypatch):
    application = submitted(citizen, item)
    password = crypto.decrypt(application.query_password_encrypted)
    sent: list[str] = []
    single = redis.Redis.execute_command
    batch = redis.client.Pipeline.execute

    def count_single(self: Any, *arguments: Any, **options: Any) -> Any:
        sent.append("command")
        return single(self, *arguments, **options)

    def count_batch(self: Any, *arguments: Any, **options: Any) -> Any:
        sent.append("pipeline")
        return batch(self, *arguments, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", count_single)
    monkeypatch.setattr(redis.client.Pipeline, "execute", count_batch)

    found = tracking.track(number=application.number, password=password, address=ADDRESS)

    assert found.application is not None
    assert sent == ["pipeline"]


def test_the_counters_end_with_their_window(citizen, item, settings):
    settings.TRACK_LOCKOUT_SECONDS = 900
    application = submitted(citizen, item)
    password = crypto.decrypt(application.query_password_encrypted)

    tracking.track(number=application.number, password=wrong(password), address=ADDRESS)
    tracking.track(number=application.number, password=password, address=ADDRESS)

    backend = caches["default"]
    client = backend._cache.get_client(write=True)
    address_key = backend.make_and_validate_key(limits.stored_name(f"track:address:{ADDRESS}"))
    number_key = backend.make_and_validate_key(limits.stored_name(f"track:number:{application.number}"))
    assert [client.get(address_key), client.get(number_key)] == [b"2", b"1"]
    assert 0 < client.ttl(address_key) <= 900
    assert 0 < client.ttl(number_key) <= 900


@pytest.mark.parametrize("cache", ["redis", "no-redis"])
def test_a_number_locks_after_five_wrong_passwords_and_an_address_after_thirty_attempts(cache, citizen, item, settings):
    if cache == "no-redis":  # the counters are then rows of the database
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}}
    settings.TRACK_FAILURES_PER_NUMBER = 5
    settings.TRACK_ATTEMPTS_PER_ADDRESS = 30
    application = submitted(citizen, item)
    password = crypto.decrypt(application.query_password_encrypted)
    number = application.number or ""

    failures = [tracking.track(number=number, password=wrong(password), address=ADDRESS) for _ in range(5)]
    locked = tracking.track(number=number, password=password, address="198.51.100.7")
    other_attempts = [tracking.track(number=f"X{index}", password=password, address=ADDRESS) for index in range(24)]
    thirtieth = tracking.track(number="Y", password=password, address=ADDRESS)
    thirty_first = tracking.track(number="Z", password=password, address=ADDRESS)

    assert [(each.application, each.is_limited) for each in failures] == [(None, False)] * 5
    assert (locked.application, locked.is_limited) == (None, True)
    assert not any(each.is_limited for each in other_attempts)
    assert (thirtieth.is_limited, thirty_first.is_limited) == (False, True)


# --- Enterprise scopes in one query ------------------------------------------------------


def test_the_legal_representative_may_act_in_every_item(enterprise, legal_rep):
    assert account_selectors.enterprise_scopes(legal_rep) == {enterprise.pk: None}


def test_an_agent_may_act_in_the_listed_items_of_every_current_authorisation(enterprise, legal_rep, enterprise_agent):
    listed = authorise(enterprise, enterprise_agent, legal_rep, item_codes=[ITEM])
    AgentAuthorisation.objects.create(
        enterprise=enterprise,
        agent=enterprise_agent,
        scope=AuthorisationScope.LISTED,
        item_codes=[OTHER_ITEM],
        valid_from=listed.valid_from,
        granted_by=legal_rep,
        granted_at=timezone.now(),
    )

    assert account_selectors.enterprise_scopes(enterprise_agent) == {enterprise.pk: frozenset({ITEM, OTHER_ITEM})}


def test_an_authorisation_for_every_item_wins_over_a_listed_one(enterprise, legal_rep, enterprise_agent):
    listed = authorise(enterprise, enterprise_agent, legal_rep, item_codes=[ITEM])
    AgentAuthorisation.objects.create(
        enterprise=enterprise,
        agent=enterprise_agent,
        scope=AuthorisationScope.ALL,
        valid_from=listed.valid_from,
        granted_by=legal_rep,
        granted_at=timezone.now(),
    )

    assert account_selectors.enterprise_scopes(enterprise_agent) == {enterprise.pk: None}


@pytest.mark.parametrize("ended", ["revoked", "expired", "not yet valid"])
def test_an_authorisation_that_does_not_hold_today_gives_no_scope(ended, enterprise, legal_rep, enterprise_agent):
    granted = authorise(enterprise, enterprise_agent, legal_rep, item_codes=[])
    today = timezone.localdate()
    if ended == "revoked":
        account_actions.agent_revoke(authorisation_id=granted.pk, actor=legal_rep)
    elif ended == "expired":
        AgentAuthorisation.objects.filter(pk=granted.pk).update(
            valid_from=today - datetime.timedelta(days=30), valid_to=today - datetime.timedelta(days=1)
        )
    else:
        AgentAuthorisation.objects.filter(pk=granted.pk).update(valid_from=today + datetime.timedelta(days=1))

    assert account_selectors.enterprise_scopes(enterprise_agent) == {}


def test_no_one_signed_in_has_no_scope(enterprise):
    from django.contrib.auth.models import AnonymousUser

    assert account_selectors.enterprise_scopes(AnonymousUser()) == {}


def test_an_agents_list_runs_as_many_queries_as_a_citizens_and_shows_the_enterprises_applications(
    citizen, item, enterprise, legal_rep, enterprise_agent, department
):
    submitted(citizen, item)
    citizen_api = APIClient()
    citizen_api.force_login(citizen)
    _response, citizens = get_counting_queries(citizen_api, APPLICATIONS)
    enterprise_item = make_enterprise_item(department=department)
    authorise(enterprise, enterprise_agent, legal_rep, item_codes=[enterprise_item.implementation_code])
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
