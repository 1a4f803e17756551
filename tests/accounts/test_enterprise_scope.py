"""Which enterprises a user may act for today, and in which items: the scope every signed-in list is filtered by."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts import actions as account_actions
from accounts import selectors as account_selectors
from accounts.models import AgentAuthorisation, AuthorisationScope
from tests.factories import authorise_agent

pytestmark = pytest.mark.django_db

ITEM = "11330100002493158X3000000000001"
OTHER_ITEM = "11330100002493158X3000000000002"


def test_the_legal_representative_may_act_in_every_item(enterprise, legal_rep):
    assert account_selectors.enterprise_scopes(legal_rep) == {enterprise.pk: None}


def test_an_agent_may_act_in_the_listed_items_of_every_current_authorisation(enterprise, legal_rep, enterprise_agent):
    listed = authorise_agent(enterprise, enterprise_agent, legal_rep, item_codes=[ITEM])
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
    listed = authorise_agent(enterprise, enterprise_agent, legal_rep, item_codes=[ITEM])
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
    granted = authorise_agent(enterprise, enterprise_agent, legal_rep, item_codes=[])
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
    assert account_selectors.enterprise_scopes(AnonymousUser()) == {}
