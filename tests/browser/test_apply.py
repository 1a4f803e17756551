"""王小明 applies online for 居民身份证补领 from its guide, then tracks it by number and password in a private window.

The item is the real demo item: the demo catalogue's own loader (demo.catalogue.seed_catalogue)
run with its item list narrowed to 居民身份证补领 and no bundles, so the item, its department
(杭州市公安局西湖区分局) and the regions are exactly what ``manage.py seed_demo`` gives, in a fraction of the time.
Its form has a prefilled name, a conditional postal address (shown only for 邮寄送达) and a
photo to upload; the population registry covers the other material.

Labels are looked up in the Chinese catalogue the way the page does it (``zh``), so the tests
pass whether or not a string is translated yet.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import translation
from django.utils.translation import gettext, pgettext
from playwright.sync_api import expect

from approvals.models import Application
from demo import catalogue
from demo.catalogue_data.items import ITEMS
from demo.registry_data import WANG_XIAOMING
from services.models import ServiceItem
from tests.datahub.builders import make_wang_household
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SERVICE = "居民身份证补领"
# A minimal PDF, as a scanner writes one: a header, one object, a trailer.
PHOTO_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PHONE = "13712349050"
LOSS = "2026年3月在西湖区乘坐公交时遗失。"


def zh(text: str, context: str = "") -> str:
    """What a Chinese page shows for ``text``: its translation, or the English while the catalogue lacks one."""
    with translation.override("zh-hans"):
        return pgettext(context, text) if context else gettext(text)


@pytest.fixture
def id_card_replacement(monkeypatch: pytest.MonkeyPatch) -> ServiceItem:
    """居民身份证补领 of 西湖区, loaded by the demo catalogue's loader, and 王小明's household in the registry."""
    monkeypatch.setattr(catalogue, "ITEMS", tuple(spec for spec in ITEMS if spec.name == SERVICE))
    monkeypatch.setattr(catalogue, "BUNDLES", ())  # the bundles name items this narrowed catalogue does not hold
    catalogue.seed_catalogue()
    make_wang_household()
    return ServiceItem.objects.published().get(name=SERVICE)


def _log_in_from_the_guide(page: Any, item: ServiceItem, email: str) -> None:
    """Open the guide, choose 在线申请, log in on the login page it leads to, and land on the start page."""
    page.goto(f"/services/{item.implementation_code}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(SERVICE)
    page.get_by_role("link", name=zh("Apply online")).click()
    page.wait_for_url(re.compile(r"/accounts/login/\?next="))
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"**/services/{item.implementation_code}/apply/")


def _start(page: Any, item: ServiceItem) -> None:
    """Start the application; the draft's task list is where it lands."""
    expect(page.get_by_role("heading", level=1)).to_contain_text(SERVICE)
    page.get_by_role("button", name=zh("Start now")).click()
    page.wait_for_url("**/me/applications/drafts/*/")


def _continue(page: Any) -> None:
    """The step's visible 'save and continue' button (a hidden twin before the fields serves the Enter key)."""
    page.locator("form.application-form .actions button[name=continue]").click()


def test_a_citizen_applies_with_prefill_and_an_upload_then_tracks_it_in_a_private_window(
    open_context, page, citizen, id_card_replacement
):
    item = id_card_replacement
    _log_in_from_the_guide(page, item, citizen.email)
    _start(page, item)

    # step 1: the name comes from the population registry, and says so
    page.get_by_role("link", name="申请人信息").click()
    name = page.get_by_label("申请人姓名")
    expect(name).to_have_value(WANG_XIAOMING.name)
    expect(name).to_have_accessible_description(zh("Filled in from the population registry"))
    expect(page.get_by_label("公民身份号码")).to_have_value(WANG_XIAOMING.id_number)
    _continue(page)

    # step 2
    page.get_by_label("遗失情况说明").fill(LOSS)
    _continue(page)

    # step 3: the postal address is asked only while the result goes by post
    expect(page.get_by_role("heading", level=1)).to_have_text("联系方式、送达与承诺")
    postal_address = page.get_by_role("group", name="邮寄地址")
    expect(postal_address).to_be_hidden()
    page.get_by_label("邮寄送达（免费）").check()
    expect(postal_address).to_be_visible()
    expect(postal_address.get_by_label(zh("Street address"))).to_be_enabled()
    page.get_by_label("电子证照（浙里办）").check()
    expect(postal_address).to_be_hidden()
    page.get_by_label("联系电话").fill(PHONE)
    page.get_by_label(re.compile(r"^本人（单位）承诺所填信息")).check()
    _continue(page)

    # materials: the registry covers the household record; the photo is uploaded as a PDF
    page.wait_for_url("**/materials/")
    expect(page.locator("#material-household_record")).to_contain_text(
        zh("No need to provide it: the department reads it from the government registry.")
    )
    photo = page.locator("#material-photo")
    photo.get_by_label("居民身份证相片").set_input_files(
        {"name": "身份证相片.pdf", "mimeType": "application/pdf", "buffer": PHOTO_PDF}
    )
    photo.get_by_role("button", name=f"{zh('Upload')} 居民身份证相片").click()
    expect(page.get_by_role("link", name="身份证相片.pdf")).to_be_visible()
    page.get_by_role("link", name=zh("Continue to check your answers")).click()

    # check your answers: every answer, where it came from, and a link to change it
    page.wait_for_url("**/check/")
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Check your answers before you submit"))
    expect(page.locator("#error-summary")).to_have_count(0)
    answers = page.locator("main .summary-list").first
    expect(answers).to_contain_text(WANG_XIAOMING.name)
    expect(answers).to_contain_text(f"{WANG_XIAOMING.name}（来自人口库）")
    main = page.locator("main")
    for answer in (LOSS, "电子证照（浙里办）", PHONE, "身份证相片.pdf"):
        expect(main).to_contain_text(answer)
    change_phone = page.get_by_role("link", name=f"{zh('Change', 'answer')} 联系电话")
    expect(change_phone).to_have_attribute("href", re.compile(r"/step/3/#field-phone$"))
    change_loss = page.get_by_role("link", name=f"{zh('Change', 'answer')} 遗失情况说明")
    expect(change_loss).to_have_attribute("href", re.compile(r"/step/2/#field-loss_description$"))
    page.locator("#submit-form input[name=declaration]").check()
    page.locator("#submit-form button[type=submit]").click()

    # the application page: its number and query password
    page.wait_for_url("**/me/applications/*/")
    rows = page.locator("main .summary-list > div")
    number = rows.filter(has=page.get_by_text(zh("Application number"), exact=True)).locator("dd").inner_text().strip()
    password = rows.filter(has=page.get_by_text(zh("Query password"), exact=True)).locator("dd strong").inner_text()
    application = Application.objects.get()
    assert (application.number, application.status) == (number, Application.Status.SUBMITTED)
    assert page.url.endswith(f"/me/applications/{number}/")
    assert re.fullmatch(r"\d{6}", password)

    # /me/ lists it with its number
    page.goto("/me/")
    recent = page.locator("#my-applications")
    expect(recent.get_by_role("link", name=SERVICE)).to_be_visible()
    expect(recent).to_contain_text(number)

    # a private window, not logged in: number and password show the status and nothing personal
    private = open_context()
    tracker = private.new_page()
    tracker.goto("/track/")
    tracker.get_by_label(zh("Application number")).fill(number)
    tracker.get_by_label(zh("Query password")).fill(password)
    tracker.locator("main form button[type=submit]").click()
    result = tracker.get_by_role("region", name=number)
    expect(result).to_contain_text(SERVICE)
    with translation.override("zh-hans"):
        submitted = str(Application.Status.SUBMITTED.label)
    expect(result.locator("dd strong")).to_have_text(submitted)
    page_text = tracker.locator("body").inner_text()
    assert WANG_XIAOMING.name not in page_text
    assert WANG_XIAOMING.id_number not in page_text
    assert PHONE not in page_text

    # a wrong password: the same not-found message, no result
    tracker.get_by_label(zh("Query password")).fill(f"{(int(password) + 1) % 10**6:06d}")
    tracker.locator("main form button[type=submit]").click()
    expect(tracker.get_by_role("alert")).to_have_text(zh("No application matches this number and query password."))
    expect(tracker.get_by_role("region", name=number)).to_have_count(0)


def test_without_javascript_a_wrong_phone_number_is_summarised_and_the_postal_address_is_shown(
    open_context, citizen, id_card_replacement
):
    item = id_card_replacement
    context = open_context(java_script_enabled=False)
    page = context.new_page()
    _log_in_from_the_guide(page, item, citizen.email)
    _start(page, item)
    page.get_by_role("link", name="联系方式、送达与承诺").click()

    # without the script the postal address is always there, saying when it is needed
    postal_address = page.get_by_role("group", name="邮寄地址")
    expect(postal_address).to_be_visible()
    when_needed = zh("Only needed if your answer to “%(question)s” is “%(answer)s”.") % {
        "question": "结果领取方式",
        "answer": "邮寄送达（免费）",
    }
    expect(postal_address).to_have_accessible_description(when_needed)

    page.get_by_label("电子证照（浙里办）").check()
    phone = page.get_by_label("联系电话")
    phone.fill("12345")
    page.get_by_label(re.compile(r"^本人（单位）承诺所填信息")).check()
    # Without JavaScript the form is sent as it is (novalidate) and the server explains.
    _continue(page)

    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text(zh("There is a problem"))
    phone_error = zh("Enter a mobile number of 11 digits, or a landline number with its area code.")
    link = summary.get_by_role("link", name=phone_error)
    expect(link).to_have_attribute("href", "#field-phone")
    expect(page).to_have_title(re.compile(f"^{re.escape(zh('Error'))}: "))
    phone = page.get_by_label("联系电话")
    expect(phone).to_have_value("12345")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_accessible_description(re.compile(re.escape(phone_error)))
    link.click()
    expect(phone).to_be_focused()
    assert "phone" not in Application.objects.get().data
