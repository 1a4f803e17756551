"""The phone number the applicant proved by SMS is filled in for them; a typed, unproven one is not."""

from __future__ import annotations

import pytest

from accounts.models import User
from approvals.applications import actions
from services.models import ServiceItem

pytestmark = pytest.mark.django_db


def _start(user: User, item: ServiceItem):
    return actions.application_draft_start(user=user, service_code=item.implementation_code)


def test_a_proven_phone_is_filled_in_and_said_to_come_from_the_account(client, citizen, item):
    citizen.phone, citizen.phone_verified = "13712349050", True
    citizen.save(update_fields=["phone", "phone_verified"])

    draft = _start(citizen, item)

    assert draft.data["phone"] == "13712349050"
    assert draft.prefilled["phone"] == "account"
    assert draft.prefilled["applicant_name"] == "population"


def test_an_unproven_phone_is_left_for_the_applicant(citizen, item):
    citizen.phone, citizen.phone_verified = "13712349050", False
    citizen.save(update_fields=["phone", "phone_verified"])

    draft = _start(citizen, item)

    assert "phone" not in draft.data
    assert "phone" not in draft.prefilled


def test_the_check_page_says_the_number_was_confirmed_by_sms(client, citizen, item):
    citizen.phone, citizen.phone_verified = "13712349050", True
    citizen.save(update_fields=["phone", "phone_verified"])
    draft = _start(citizen, item)
    client.force_login(citizen)

    step = client.get(f"/me/applications/drafts/{draft.public_id}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    check = client.get(f"/me/applications/drafts/{draft.public_id}/check/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert step.status_code == 200
    assert '13712349050<span class="hint">（已短信验证）</span>' in check.content.decode()
