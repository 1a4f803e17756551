"""The other party, once they confirmed, follows the application on a page of their own; nobody else sees it."""

from __future__ import annotations

import pytest

from accounts.models import User
from approvals.applications import parties
from approvals.models import Application
from demo.registry_data import CHEN_HAOYU, LIN_XIAOYAN, ZHAO_LI
from tests.approvals.marriage import make_couple, make_marriage_item, marriage_submitted
from tests.factories import email_user, give_identity
from tests.helpers import logged_in

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def bride(db: None) -> User:
    return give_identity(email_user("bride@example.com"), ZHAO_LI)


@pytest.fixture
def groom(db: None) -> User:
    return give_identity(email_user("groom@example.com"), CHEN_HAOYU)


@pytest.fixture
def application(bride: User) -> Application:
    make_couple()
    return marriage_submitted(bride, make_marriage_item())


def _page(number: str) -> str:
    return f"/me/confirmations/{number}/"


def test_the_groom_follows_the_application_he_confirmed_without_its_private_parts(application, groom):
    client = logged_in(groom)
    assert client.get(_page(application.number)).status_code == 404  # not before he confirms

    parties.party_confirm(number=str(application.number), user=groom)
    listing = client.get("/me/confirmations/").content.decode()
    page = client.get(_page(application.number))

    assert f'href="{_page(application.number)}"' in listing
    assert page.status_code == 200
    body = page.content.decode()
    assert application.service.name in body
    assert f"<strong>{application.get_status_display()}</strong>" in body
    assert ZHAO_LI.name in body
    assert ZHAO_LI.id_number not in body
    assert CHEN_HAOYU.id_number not in body
    assert "查询密码" in body  # named as the applicant's, never shown


def test_the_applicant_and_strangers_get_no_party_page(application, bride, groom):
    parties.party_confirm(number=str(application.number), user=groom)
    stranger = give_identity(email_user("stranger@example.com"), LIN_XIAOYAN)

    assert logged_in(bride).get(_page(application.number)).status_code == 404  # hers is the applicant's page
    assert logged_in(stranger).get(_page(application.number)).status_code == 404
    assert logged_in(groom).get(_page("NO-SUCH-NUMBER")).status_code == 404
