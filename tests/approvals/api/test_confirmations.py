"""The other party's API (待我确认): list what waits for me, confirm or decline; nobody else sees or answers it."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from accounts.models import User
from approvals.models import Application, Outbox
from demo.registry_data import CHEN_HAOYU, ZHAO_LI
from tests.approvals.marriage import make_couple, make_marriage_item, marriage_submitted
from tests.datahub.builders import resident_id
from tests.factories import email_user, give_identity
from tests.helpers import logged_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

LIST = "/api/v1/confirmations/"


@pytest.fixture
def bride(db: None) -> User:
    return give_identity(email_user("bride@example.com"), ZHAO_LI)


@pytest.fixture
def groom(db: None) -> User:
    return give_identity(email_user("groom@example.com"), CHEN_HAOYU)


@pytest.fixture
def submitted_by_bride(bride: User) -> Application:
    make_couple()
    return marriage_submitted(bride, make_marriage_item())


def _answer(number: str, verb: str) -> str:
    return f"{LIST}{number}/{verb}/"


def test_the_groom_lists_confirms_and_the_application_is_routed(submitted_by_bride, groom):
    api = logged_in(groom)

    listed = api.get(LIST)

    assert listed.status_code == 200
    (waiting,) = listed.json()
    assert waiting["number"] == submitted_by_bride.number
    assert waiting["my_role"] == "male"
    assert waiting["service"]["name"] == submitted_by_bride.service.name
    assert set(waiting["department"]) == {"code", "name"}
    assert [(other["role"], other["name"], other["confirmed"]) for other in waiting["others"]] == [
        ("female", ZHAO_LI.name, True)
    ]
    assert ZHAO_LI.id_number not in listed.content.decode()

    first = api.post(_answer(submitted_by_bride.number, "confirm"))
    again = api.post(_answer(submitted_by_bride.number, "confirm"))

    assert first.status_code == again.status_code == 200
    assert first.json() == {
        "number": submitted_by_bride.number,
        "status": "submitted",
        "outcome": "routed",
        "reason": "",
    }
    assert again.json()["outcome"] == "routed"
    assert Outbox.objects.filter(application=submitted_by_bride).count() == 1
    assert api.get(LIST).json() == []


def test_declining_withdraws_and_a_second_answer_cannot_confirm(submitted_by_bride, groom):
    api = logged_in(groom)

    declined = api.post(_answer(submitted_by_bride.number, "decline"))
    confirm_after = api.post(_answer(submitted_by_bride.number, "confirm"))

    assert declined.status_code == 200
    assert declined.json()["outcome"] == "declined"
    assert declined.json()["status"] == "withdrawn"
    assert confirm_after.status_code == 409
    assert confirm_after.json()["code"] == "party_declined"
    assert not Outbox.objects.filter(application=submitted_by_bride).exists()


def test_the_applicant_cannot_answer_for_the_groom_nor_a_stranger_see_it(submitted_by_bride, bride):
    stranger = give_identity(
        email_user("stranger@example.com"),
        dataclasses.replace(CHEN_HAOYU, name="路人", id_number=resident_id("330106", datetime.date(1990, 1, 1), 1)),
    )
    as_bride, as_stranger = logged_in(bride), logged_in(stranger)

    # the bride has confirmed as the woman already: saying so again changes nothing, declining is too late
    assert as_bride.get(LIST).json() == []
    assert as_bride.post(_answer(submitted_by_bride.number, "confirm")).json()["outcome"] == "waiting"
    assert as_bride.post(_answer(submitted_by_bride.number, "decline")).status_code == 409
    # a stranger is told there is no such application
    assert as_stranger.get(LIST).json() == []
    assert as_stranger.post(_answer(submitted_by_bride.number, "confirm")).status_code == 404
    assert as_stranger.post(_answer(submitted_by_bride.number, "decline")).status_code == 404
    assert as_stranger.post(_answer("no-such-number", "confirm")).status_code == 404

    submitted_by_bride.refresh_from_db()
    assert submitted_by_bride.status == Application.Status.SUBMITTED
    assert submitted_by_bride.parties.get(role="male").confirmed_at is None


def test_signed_out_is_refused(client, submitted_by_bride):
    for answer in (client.get(LIST), client.post(_answer(submitted_by_bride.number, "confirm"))):
        assert answer.status_code == 403
        assert answer.json()["code"] == "not_authenticated"
