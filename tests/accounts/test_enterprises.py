"""法人认领 and 经办人: the registry's legal representative claims the enterprise and authorises agents."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone, translation

from accounts import actions, selectors
from accounts.models import (
    AgentAuthorisation,
    AuthorisationScope,
    Enterprise,
    EnterpriseEvent,
    RealNameLevel,
    User,
)
from accounts.tasks import sweep_enterprise_representatives
from core import crypto
from core.errors import DomainError, NotFound, PermissionDenied
from datahub.models import ID_NUMBER_HASH_PURPOSE, AccessResult, DataAccessLog, LegalPersonRecord
from demo.registries import legal_person_record, seed_registries
from demo.registry_data import WANG_XIAOMING, YIWANG_TECHNOLOGY
from interaction.models import Message
from tests.factories import PASSWORD, email_user

pytestmark = pytest.mark.django_db

USCC = YIWANG_TECHNOLOGY.uscc
ITEM = "11330100002493158X3000000000001"  # 31 characters: a 实施编码's shape
OTHER_ITEM = "11330100002493158X3000000000002"


@pytest.fixture
def registry(db) -> LegalPersonRecord:
    record = legal_person_record(YIWANG_TECHNOLOGY)
    record.save()
    return record


@pytest.fixture
def claimed(registry, legal_rep) -> Enterprise:
    return actions.enterprise_claim(uscc=USCC, actor=legal_rep)


def _authorise(
    enterprise: Enterprise,
    agent: User,
    actor: User,
    *,
    scope: str = AuthorisationScope.ALL,
    item_codes: list[str] | None = None,
    valid_from: datetime.date = datetime.date(2026, 1, 1),
    valid_to: datetime.date | None = None,
) -> AgentAuthorisation:
    return actions.agent_authorise(
        enterprise_id=enterprise.pk,
        agent_email=agent.email,
        scope=scope,
        item_codes=item_codes or [],
        valid_from=valid_from,
        valid_to=valid_to,
        actor=actor,
    )


def _events(enterprise: Enterprise) -> list[tuple]:
    return list(EnterpriseEvent.objects.filter(enterprise=enterprise).order_by("pk").values_list("action", "actor_id"))


# --- Claim ---


def test_the_registrys_legal_representative_claims_the_enterprise(registry, legal_rep):
    enterprise = actions.enterprise_claim(uscc=" 91330106ma2cyw08x3 ", actor=legal_rep)

    enterprise.refresh_from_db()
    assert (enterprise.uscc, enterprise.name, enterprise.kind) == (USCC, "杭州一网科技有限公司", "91")
    assert enterprise.legal_representative_id == legal_rep.pk
    assert enterprise.claimed_at is not None
    assert enterprise.registry_checked_at == enterprise.claimed_at
    assert _events(enterprise) == [("claimed", legal_rep.pk)]
    logs = list(DataAccessLog.objects.order_by("pk").values_list("actor_id", "method", "purpose", "result"))
    assert logs == [
        (legal_rep.pk, "verify", "法人认领", AccessResult.MATCH),
        (legal_rep.pk, "lookup", "法人认领", AccessResult.FOUND),
    ]


def test_someone_else_cannot_claim_and_nothing_is_written(registry, enterprise_agent):
    with translation.override("en"), pytest.raises(DomainError) as raised:
        actions.enterprise_claim(uscc=USCC, actor=enterprise_agent)

    assert raised.value.code == "not_legal_representative"
    assert raised.value.fields == {
        "uscc": ["The legal person registry does not list you as the legal representative of this enterprise."]
    }
    assert Enterprise.objects.count() == 0
    assert EnterpriseEvent.objects.count() == 0
    assert list(DataAccessLog.objects.values_list("purpose", "result")) == [("法人认领", AccessResult.MISMATCH)]


def test_a_level_1_account_cannot_claim_and_the_registry_is_not_read(registry):
    newcomer = email_user("newcomer@example.com")

    with pytest.raises(PermissionDenied) as raised:
        actions.enterprise_claim(uscc=USCC, actor=newcomer)

    assert raised.value.code == "real_name_required"
    assert Enterprise.objects.count() == 0
    assert EnterpriseEvent.objects.count() == 0
    assert DataAccessLog.objects.count() == 0


@pytest.mark.parametrize(
    ("uscc", "code"), [("91330106MA2CYW08X4", "uscc_check"), ("9133010", "uscc_shape"), ("", "uscc_shape")]
)
def test_a_malformed_credit_code_is_refused_before_the_registry(registry, legal_rep, uscc, code):
    with pytest.raises(DomainError) as raised:
        actions.enterprise_claim(uscc=uscc, actor=legal_rep)

    assert raised.value.code == code
    assert list(raised.value.fields) == ["uscc"]
    assert Enterprise.objects.count() == 0
    assert DataAccessLog.objects.count() == 0


def test_claiming_twice_is_refused_and_changes_nothing(claimed, legal_rep):
    before = Enterprise.objects.filter(pk=claimed.pk).values().get()

    with pytest.raises(DomainError) as raised:
        actions.enterprise_claim(uscc=USCC, actor=legal_rep)

    assert raised.value.code == "already_claimed"
    assert Enterprise.objects.filter(pk=claimed.pk).values().get() == before
    assert _events(claimed) == [("claimed", legal_rep.pk)]


# --- Authorise and revoke ---


def test_the_legal_representative_authorises_several_agents_and_each_grant_is_an_event(
    claimed, legal_rep, enterprise_agent, other_citizen
):
    first = _authorise(claimed, enterprise_agent, legal_rep)
    second = _authorise(
        claimed, other_citizen, legal_rep, scope=AuthorisationScope.LISTED, item_codes=[ITEM.lower(), ITEM, ""]
    )

    assert (first.agent_id, first.scope, first.item_codes, first.valid_to) == (
        enterprise_agent.pk,
        "all",
        [],
        None,
    )
    assert (second.agent_id, second.scope, second.item_codes) == (other_citizen.pk, "listed", [ITEM])
    assert _events(claimed) == [
        ("claimed", legal_rep.pk),
        ("authorised", legal_rep.pk),
        ("authorised", legal_rep.pk),
    ]
    details = EnterpriseEvent.objects.filter(action="authorised").order_by("pk").last().details
    assert details == {
        "authorisation_id": second.pk,
        "agent_id": other_citizen.pk,
        "scope": "listed",
        "item_codes": [ITEM],
        "valid_from": "2026-01-01",
        "valid_to": None,
    }


def test_only_the_legal_representative_may_authorise(claimed, enterprise_agent, other_citizen):
    with pytest.raises(NotFound):
        _authorise(claimed, other_citizen, enterprise_agent)

    assert AgentAuthorisation.objects.count() == 0
    assert EnterpriseEvent.objects.filter(action="authorised").count() == 0


def test_an_unverified_or_unknown_agent_is_refused(claimed, legal_rep):
    newcomer = email_user("newcomer@example.com")

    with pytest.raises(DomainError) as unverified:
        _authorise(claimed, newcomer, legal_rep)
    with pytest.raises(DomainError) as unknown:
        actions.agent_authorise(
            enterprise_id=claimed.pk,
            agent_email="nobody@example.com",
            scope="all",
            item_codes=[],
            valid_from=datetime.date(2026, 1, 1),
            valid_to=None,
            actor=legal_rep,
        )

    assert unverified.value.code == unknown.value.code == "agent_unknown"
    assert AgentAuthorisation.objects.count() == 0


def test_a_listed_scope_needs_well_formed_codes(claimed, legal_rep, enterprise_agent):
    with pytest.raises(DomainError) as empty:
        _authorise(claimed, enterprise_agent, legal_rep, scope=AuthorisationScope.LISTED, item_codes=[" "])
    with pytest.raises(DomainError) as malformed:
        _authorise(claimed, enterprise_agent, legal_rep, scope=AuthorisationScope.LISTED, item_codes=["123"])

    assert (empty.value.code, malformed.value.code) == ("item_codes_required", "item_code_shape")
    assert AgentAuthorisation.objects.count() == 0


def test_the_legal_representative_revokes_and_the_revocation_is_an_event(claimed, legal_rep, enterprise_agent):
    authorisation = _authorise(claimed, enterprise_agent, legal_rep)

    actions.agent_revoke(authorisation_id=authorisation.pk, actor=legal_rep, reason="离职")

    authorisation.refresh_from_db()
    assert authorisation.revoked_at is not None
    assert (authorisation.revoked_by_id, authorisation.revoke_reason) == (legal_rep.pk, "离职")
    assert _events(claimed) == [
        ("claimed", legal_rep.pk),
        ("authorised", legal_rep.pk),
        ("revoked", legal_rep.pk),
    ]
    assert EnterpriseEvent.objects.get(action="revoked").details == {
        "authorisation_id": authorisation.pk,
        "agent_id": enterprise_agent.pk,
        "reason": "离职",
    }


def test_only_the_legal_representative_may_revoke(claimed, legal_rep, enterprise_agent):
    authorisation = _authorise(claimed, enterprise_agent, legal_rep)

    with pytest.raises(NotFound):
        actions.agent_revoke(authorisation_id=authorisation.pk, actor=enterprise_agent, reason="")

    authorisation.refresh_from_db()
    assert authorisation.revoked_at is None
    assert EnterpriseEvent.objects.filter(action="revoked").count() == 0


# --- Who may act for whom ---


def test_can_act_for_all_items_and_listed_items_only(claimed, legal_rep, enterprise_agent, other_citizen):
    _authorise(claimed, enterprise_agent, legal_rep)
    _authorise(claimed, other_citizen, legal_rep, scope=AuthorisationScope.LISTED, item_codes=[ITEM])

    assert selectors.can_act_for(user=enterprise_agent, enterprise_id=claimed.pk, item_code=OTHER_ITEM) is True
    assert selectors.can_act_for(user=other_citizen, enterprise_id=claimed.pk, item_code=ITEM) is True
    assert selectors.can_act_for(user=other_citizen, enterprise_id=claimed.pk, item_code=OTHER_ITEM) is False
    assert selectors.can_act_for(user=legal_rep, enterprise_id=claimed.pk, item_code=OTHER_ITEM) is True
    assert [e.pk for e in selectors.enterprises_acting_for(enterprise_agent)] == [claimed.pk]
    assert [e.pk for e in selectors.enterprises_acting_for(legal_rep)] == [claimed.pk]


def test_can_act_for_is_false_for_an_expired_or_revoked_authorisation(
    claimed, legal_rep, enterprise_agent, other_citizen
):
    today = timezone.localdate()
    expired = _authorise(claimed, enterprise_agent, legal_rep, valid_to=today)
    AgentAuthorisation.objects.filter(pk=expired.pk).update(
        valid_from=today - datetime.timedelta(days=30), valid_to=today - datetime.timedelta(days=1)
    )
    revoked = _authorise(claimed, other_citizen, legal_rep)
    actions.agent_revoke(authorisation_id=revoked.pk, actor=legal_rep)

    assert selectors.can_act_for(user=enterprise_agent, enterprise_id=claimed.pk, item_code=ITEM) is False
    assert selectors.can_act_for(user=other_citizen, enterprise_id=claimed.pk, item_code=ITEM) is False
    assert selectors.enterprises_acting_for(enterprise_agent) == []
    assert selectors.enterprises_acting_for(other_citizen) == []


def test_authorisation_for_respects_its_dates(claimed, legal_rep, enterprise_agent):
    authorisation = _authorise(
        claimed, enterprise_agent, legal_rep, valid_from=datetime.date(2026, 3, 1), valid_to=datetime.date(2099, 3, 31)
    )

    def on(day):
        return selectors.authorisation_for(user=enterprise_agent, enterprise_id=claimed.pk, item_code=ITEM, on=day)

    assert on(datetime.date(2026, 2, 28)) is None
    assert on(datetime.date(2026, 3, 1)) == authorisation
    assert on(datetime.date(2099, 3, 31)) == authorisation
    assert on(datetime.date(2099, 4, 1)) is None


# --- The acting-for choice ---


def _login(client: Client, user: User) -> None:
    assert client.login(username=user.username, password=PASSWORD)


def test_the_agent_chooses_the_enterprise_and_the_choice_is_forgotten_when_revoked(
    client, claimed, legal_rep, enterprise_agent
):
    authorisation = _authorise(claimed, enterprise_agent, legal_rep)
    _login(client, enterprise_agent)
    page = client.get("/me/acting-for/").content.decode()
    assert f'value="{claimed.pk}"' in page

    response = client.post("/me/acting-for/", {"enterprise": str(claimed.pk)})
    assert response.status_code == 302
    assert client.session["acting_for_enterprise_id"] == claimed.pk
    assert "杭州一网科技有限公司 — <a" in client.get("/me/").content.decode()

    actions.agent_revoke(authorisation_id=authorisation.pk, actor=legal_rep, reason="")

    body = client.get("/me/").content.decode()
    assert "杭州一网科技有限公司 — <a" not in body
    assert "acting_for_enterprise_id" not in client.session


def test_choosing_an_enterprise_one_cannot_act_for_is_not_found(client, claimed, other_citizen):
    _login(client, other_citizen)

    response = client.post("/me/acting-for/", {"enterprise": str(claimed.pk)})

    assert response.status_code == 404
    assert "acting_for_enterprise_id" not in client.session


def test_choosing_myself_clears_the_choice(client, claimed, legal_rep):
    _login(client, legal_rep)
    client.post("/me/acting-for/", {"enterprise": str(claimed.pk)})

    client.post("/me/acting-for/", {"enterprise": "self"})

    assert "acting_for_enterprise_id" not in client.session


# --- Pages ---


def test_the_claim_page_claims_and_shows_field_errors(client, registry, legal_rep):
    _login(client, legal_rep)

    wrong = client.post("/me/enterprises/claim/", {"uscc": "91330106MA2CYW08X4"})
    assert wrong.status_code == 200
    assert 'aria-describedby="id_uscc-hint id_uscc-error"' in wrong.content.decode()
    assert Enterprise.objects.count() == 0

    response = client.post("/me/enterprises/claim/", {"uscc": USCC})
    enterprise = Enterprise.objects.get()
    assert response["Location"] == f"/me/enterprises/{enterprise.pk}/"
    assert enterprise.legal_representative_id == legal_rep.pk


def test_the_enterprise_page_authorises_and_revokes(client, claimed, legal_rep, enterprise_agent):
    _login(client, legal_rep)

    response = client.post(
        f"/me/enterprises/{claimed.pk}/",
        {"agent_email": enterprise_agent.email, "scope": "all", "item_codes": "", "valid_from": "2026-01-01"},
    )
    authorisation = AgentAuthorisation.objects.get()
    assert response["Location"] == f"/me/enterprises/{claimed.pk}/"
    assert f'id="authorisation-{authorisation.pk}"' in client.get(f"/me/enterprises/{claimed.pk}/").content.decode()

    client.post(f"/me/enterprises/{claimed.pk}/authorisations/{authorisation.pk}/revoke/", {"reason": "调岗"})
    authorisation.refresh_from_db()
    assert authorisation.revoke_reason == "调岗"


def test_the_enterprise_page_is_not_found_for_anyone_but_the_legal_representative(
    client, claimed, legal_rep, enterprise_agent
):
    authorisation = _authorise(claimed, enterprise_agent, legal_rep)
    _login(client, enterprise_agent)

    assert client.get(f"/me/enterprises/{claimed.pk}/").status_code == 404
    revoke = client.post(f"/me/enterprises/{claimed.pk}/authorisations/{authorisation.pk}/revoke/")
    assert revoke.status_code == 404
    authorisation.refresh_from_db()
    assert authorisation.revoked_at is None


# --- Comparison with the registry ---


def _change_representative(record: LegalPersonRecord, person_number: str) -> None:
    record.legal_representative_id_hash = crypto.keyed_hash(person_number, purpose=ID_NUMBER_HASH_PURPOSE)
    record.save(update_fields=["legal_representative_id_hash"])


def test_a_new_legal_representative_in_the_registry_ends_the_claim_and_its_authorisations(
    registry, claimed, legal_rep, enterprise_agent, other_citizen
):
    active = _authorise(claimed, enterprise_agent, legal_rep)
    listed = _authorise(claimed, other_citizen, legal_rep, scope=AuthorisationScope.LISTED, item_codes=[ITEM])
    _change_representative(registry, WANG_XIAOMING.id_number)

    assert actions.enterprise_compare_with_registry(enterprise_id=claimed.pk) is True

    claimed.refresh_from_db()
    assert claimed.legal_representative_id is None
    ended = AgentAuthorisation.objects.filter(pk__in=[active.pk, listed.pk]).values_list("revoke_reason", flat=True)
    assert list(ended) == ["法定代表人变更", "法定代表人变更"]
    assert AgentAuthorisation.objects.filter(revoked_at__isnull=True).count() == 0
    events = list(
        EnterpriseEvent.objects.filter(enterprise=claimed).order_by("pk").values_list("action", "actor_label")
    )
    assert events[3:] == [
        ("claim_ended", "beat:enterprise-compare"),
        ("authorisation_ended", "beat:enterprise-compare"),
        ("authorisation_ended", "beat:enterprise-compare"),
    ]
    assert selectors.can_act_for(user=legal_rep, enterprise_id=claimed.pk, item_code=ITEM) is False
    assert selectors.can_act_for(user=enterprise_agent, enterprise_id=claimed.pk, item_code=ITEM) is False
    log = DataAccessLog.objects.order_by("pk").last()
    assert (log.actor_id, log.actor_label, log.purpose, log.result) == (
        None,
        "beat:enterprise-compare",
        "法人变更核对",
        AccessResult.MISMATCH,
    )

    # everyone concerned is told in their inbox
    told = sorted(Message.objects.values_list("recipient_id", "event"))
    assert told == sorted(
        [
            (legal_rep.pk, "legal_representative_changed"),
            (enterprise_agent.pk, "authorisation_ended"),
            (other_citizen.pk, "authorisation_ended"),
        ]
    )
    assert Message.objects.get(recipient=legal_rep).context["enterprise_name"] == claimed.name

    # and a second comparison changes nothing more
    assert actions.enterprise_compare_with_registry(enterprise_id=claimed.pk) is False
    assert EnterpriseEvent.objects.filter(enterprise=claimed).count() == 6
    assert Message.objects.count() == 3


def test_an_unchanged_registry_changes_nothing_but_the_check_time(claimed, legal_rep, enterprise_agent):
    authorisation = _authorise(claimed, enterprise_agent, legal_rep)
    events_before = _events(claimed)

    assert sweep_enterprise_representatives() == 0
    assert sweep_enterprise_representatives() == 0

    after = Enterprise.objects.get(pk=claimed.pk)
    assert after.legal_representative_id == legal_rep.pk
    assert after.registry_checked_at > claimed.registry_checked_at
    authorisation.refresh_from_db()
    assert authorisation.revoked_at is None
    assert _events(claimed) == events_before


def test_the_sweep_ends_a_changed_claim_once(registry, claimed, legal_rep):
    _change_representative(registry, WANG_XIAOMING.id_number)

    assert sweep_enterprise_representatives() == 1
    assert sweep_enterprise_representatives() == 0
    assert EnterpriseEvent.objects.filter(action="claim_ended").count() == 1


def test_the_new_representative_claims_after_the_change(registry, claimed, legal_rep, citizen, enterprise_agent):
    authorisation = _authorise(claimed, enterprise_agent, legal_rep)
    _change_representative(registry, WANG_XIAOMING.id_number)

    enterprise = actions.enterprise_claim(uscc=USCC, actor=citizen)

    assert enterprise.legal_representative_id == citizen.pk
    authorisation.refresh_from_db()
    assert authorisation.revoke_reason == "法定代表人变更"
    assert [action for action, _actor in _events(enterprise)] == [
        "claimed",
        "authorised",
        "claim_ended",
        "authorisation_ended",
        "claimed",
    ]


# --- A parent acts for a minor child ---


def test_household_minors_lists_the_child_of_the_citizen(citizen):
    seed_registries()

    minors = selectors.household_minors(user=citizen)

    assert [(child.name, child.birth_date) for child in minors] == [("王雨桐", datetime.date(2017, 9, 1))]
    log = DataAccessLog.objects.order_by("pk").last()
    assert (log.actor_id, log.purpose, log.result) == (citizen.pk, "监护人代办", AccessResult.FOUND)


def test_the_household_page_lists_the_child_masked(client, citizen):
    seed_registries()
    _login(client, citizen)

    body = client.get("/me/household/").content.decode()

    assert "*桐" not in body  # a three-character name keeps its last two
    assert "*雨桐" in body
    assert "王雨桐" not in body


def test_the_account_page_reads_no_registry_only_the_household_page_does(client, citizen):
    seed_registries()
    _login(client, citizen)
    before = DataAccessLog.objects.count()

    client.get("/me/")
    after_account_page = DataAccessLog.objects.count()
    client.get("/me/household/")

    assert after_account_page == before
    assert DataAccessLog.objects.count() == before + 1


def test_household_minors_is_empty_for_an_unverified_account(db):
    seed_registries()
    newcomer = email_user("newcomer@example.com")
    assert newcomer.real_name_level == RealNameLevel.UNVERIFIED

    assert selectors.household_minors(user=newcomer) == []
    assert DataAccessLog.objects.count() == 0
