"""结婚登记 with two parties and a registrar, each in a browser of their own.

赵丽 (the bride) starts the demo item from its guide and submits online, her own name and number
filled in from the registry; 陈浩宇 (the groom) signs in, finds it waiting for his confirmation
and confirms; the registry checks of both pass and a real Celery worker routes the application
to the registry office's task 审查并登记; its clerk registers them at the visit; the bride sees it
completed, and the decision names both.

The item is the demo catalogue's own, loaded by its loader with the list narrowed to 结婚登记.
"""

from __future__ import annotations

import datetime
import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import StaffRole, User
from approvals.documents.notices import GRANT, document_for, document_text
from approvals.models import Application, WorkflowTask
from approvals.workflow import APPROVE
from core.calendar import add_working_days
from demo import catalogue
from demo.catalogue_data.items import ITEMS
from demo.registry_data import CHEN_HAOYU, ZHAO_LI
from services.models import ServiceItem
from tests.browser.helpers import (
    ROUTING_SECONDS,
    decide,
    log_in,
    summary_value,
    wait_for_task,
    zh,
    zh_label,
)
from tests.datahub.builders import make_person
from tests.factories import email_user, enroll_totp, give_identity, staff_member

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("upload_root"),
]

SERVICE = "结婚登记"
TASK = "审查并登记"
XIHU = "330106"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def marriage_item(monkeypatch: pytest.MonkeyPatch) -> ServiceItem:
    """结婚登记 of 西湖区 as the demo publishes it, and the couple (both unmarried) in the registry."""
    monkeypatch.setattr(catalogue, "ITEMS", tuple(spec for spec in ITEMS if spec.name == SERVICE))
    monkeypatch.setattr(catalogue, "BUNDLES", ())
    catalogue.seed_catalogue()
    make_person(CHEN_HAOYU)
    make_person(ZHAO_LI)
    return ServiceItem.objects.published().get(name=SERVICE, department__region__code__startswith=XIHU)


@pytest.fixture
def bride(db: None) -> User:
    return give_identity(email_user("citizen2@example.com"), ZHAO_LI)


@pytest.fixture
def groom(db: None) -> User:
    return give_identity(email_user("citizen3@example.com"), CHEN_HAOYU)


@pytest.fixture
def registrar(marriage_item: ServiceItem) -> User:
    clerk = staff_member(
        "registrar@example.com", marriage_item.department, StaffRole.CLERK, last_name="何", first_name="静"
    )
    enroll_totp(clerk)
    return clerk


def _claim(page: Any, row: Any) -> None:
    row.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/workbench/tasks/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{TASK}: {SERVICE}")
    page.get_by_role("button", name=zh("Claim this task")).click()
    expect(page.locator("main [role=status]")).to_have_text(zh("You hold this task now."))


def _continue(page: Any) -> None:
    page.locator("form.application-form .actions button[name=continue]").click()


def _upload_what_is_asked(page: Any) -> None:
    """Upload a PDF for every material the materials page asks a file for."""
    page.wait_for_url("**/materials/")
    sections = page.locator("main [id^=material-]")
    for index in range(sections.count()):
        section = sections.nth(index)
        if section.locator("input[type=file]").count():
            section.locator("input[type=file]").set_input_files(
                {"name": f"材料{index}.pdf", "mimeType": "application/pdf", "buffer": PDF}
            )
            section.locator("button[type=submit]").first.click()
            expect(page.get_by_role("link", name=f"材料{index}.pdf")).to_be_visible()
    page.get_by_role("link", name=zh("Continue to check your answers")).click()


def test_two_parties_apply_the_groom_confirms_and_the_registrar_registers_them_at_the_visit(
    page, new_page, celery_worker, bride, groom, registrar, marriage_item
):
    item = marriage_item

    # The bride starts from the guide; her own name and number are filled in from the registry.
    log_in(page, bride.email, next_path=f"/services/{item.implementation_code}/apply/")
    page.get_by_role("button", name=zh("Start now")).click()
    page.wait_for_url("**/me/applications/drafts/*/")
    page.get_by_role("link", name="当事人信息").click()
    expect(page.get_by_label("女方姓名")).to_have_value(ZHAO_LI.name)
    expect(page.get_by_label("女方公民身份号码")).to_have_value(ZHAO_LI.id_number)
    expect(page.get_by_label("男方姓名")).to_have_value("")
    page.get_by_label("男方姓名").fill(CHEN_HAOYU.name)
    page.get_by_label("男方公民身份号码").fill(CHEN_HAOYU.id_number)
    _continue(page)
    page.get_by_label("预约办理日期").fill(add_working_days(datetime.date.today(), 5).isoformat())
    page.get_by_label(re.compile(r"^本人无配偶")).check()
    _continue(page)
    phone = page.get_by_label("联系电话")
    expect(phone).to_have_value("")  # her number was never proven by SMS: not offered
    phone.fill(ZHAO_LI.phone)
    _continue(page)
    _upload_what_is_asked(page)
    page.wait_for_url("**/check/")
    page.locator("#submit-form input[name=declaration]").check()
    page.locator("#submit-form button[type=submit]").click()

    # Submitted, and waiting for the groom: nothing is routed yet.
    page.wait_for_url("**/me/applications/*/")
    application = Application.objects.get()
    number = application.number
    expect(summary_value(page, zh("Status"))).to_have_text(zh_label(Application.Status.SUBMITTED.label))
    expect(page.locator("main")).to_contain_text(zh("waiting for their confirmation"))
    assert WorkflowTask.objects.count() == 0

    # The groom signs in and confirms from his own account.
    groom_page = new_page(viewport={"width": 375, "height": 800})  # the groom confirms on his phone
    log_in(groom_page, groom.email, next_path="/me/confirmations/")
    card = groom_page.locator("main section.card").filter(has_text=number)
    expect(card).to_contain_text(ZHAO_LI.name)
    card.get_by_role("button", name=zh("Confirm: I apply together")).click()
    groom_page.wait_for_url("**/me/confirmations/")
    expect(groom_page.locator("main")).to_contain_text(zh("Nothing is waiting for your confirmation."))
    # He follows it from there: where it stands, without the applicant's query password or answers.
    groom_page.get_by_role("link", name=SERVICE).click()
    groom_page.wait_for_url(f"**/me/confirmations/{number}/")
    expect(groom_page.get_by_role("heading", level=1)).to_have_text(SERVICE)
    expect(groom_page.locator("main")).to_contain_text(ZHAO_LI.name)

    # The registry checks passed; the worker routes it to the registrar, who registers them at the visit.
    page_for_clerk = new_page()
    log_in(page_for_clerk, registrar.email, next_path="/workbench/", with_totp=True)
    row = wait_for_task(page_for_clerk, number, TASK)
    _claim(page_for_clerk, row)
    parties_heading = page_for_clerk.get_by_role("heading", name=zh("Parties"), exact=True)
    expect(parties_heading).to_be_visible()
    parties = page_for_clerk.locator("main h2#parties + p + ul li")
    expect(parties).to_have_count(2)
    expect(parties.nth(0)).to_contain_text(CHEN_HAOYU.name)
    expect(parties.nth(1)).to_contain_text(ZHAO_LI.name)
    decide(page_for_clerk, TASK, number, APPROVE)

    # The bride sees it completed, with the decision.
    completed = zh_label(Application.Status.COMPLETED.label)
    status = summary_value(page, zh("Status"))
    deadline = time.monotonic() + ROUTING_SECONDS
    page.reload()
    while status.inner_text().strip() != completed and time.monotonic() < deadline:
        page.wait_for_timeout(200)
        page.reload()
    expect(status).to_have_text(completed)
    grant = page.get_by_role("link", name=f"{zh('Decision to grant')} (PDF)")
    response = page.request.get(grant.get_attribute("href"))
    assert (response.status, response.headers["content-type"]) == (200, "application/pdf")

    # The decision names both parties.
    application.refresh_from_db()
    particulars, _body = document_text(application, document_for(application, GRANT))
    assert [line.split("（")[0] for line in particulars[:2]] == [f"男方：{CHEN_HAOYU.name}", f"女方：{ZHAO_LI.name}"]
