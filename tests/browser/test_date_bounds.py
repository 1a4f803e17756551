"""A past appointment date: the date input tells the browser, and the server refuses it beside the field."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from approvals.applications import actions
from approvals.models import Application
from demo.catalogue_data.fields import form
from services.models import Department
from tests.approvals.builders import make_applicable_item
from tests.browser.helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MESSAGE = "日期不能早于今天。"


@pytest.fixture
def step_url(citizen: User, department: Department) -> tuple[str, Application]:
    schema, ui = form("预约申请表", ("appointment_date", "reason"))
    item = make_applicable_item(department=department, form_schema=schema, form_ui=ui, materials=[])
    draft = actions.application_draft_start(user=citizen, service_code=item.implementation_code)
    return reverse("approvals:draft_step", args=[draft.public_id, 1]), draft


def _answer(page: Any) -> Any:
    date_input = page.get_by_label("预约办理日期")
    expect(date_input).to_have_attribute("min", timezone.localdate().isoformat())
    date_input.fill("2020-01-01")
    page.get_by_label("申请事由").fill("办理业务需要。")
    page.locator("form.application-form .actions button[name=continue]").click()
    return date_input


def test_without_javascript_the_server_refuses_a_past_appointment_beside_the_field(
    browser, live_server, citizen, step_url
):
    url, draft = step_url
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, citizen.email, next_path=url)

        date_input = _answer(page)

        expect(page.locator("#field-appointment_date-error")).to_have_text(f"错误： {MESSAGE}")
        expect(date_input).to_have_attribute("aria-invalid", "true")
        expect(date_input).to_have_accessible_description(f"错误： {MESSAGE}")
        expect(date_input).to_have_value("2020-01-01")
    finally:
        context.close()
    draft.refresh_from_db()
    assert "appointment_date" not in draft.data


def test_with_javascript_the_browser_stops_a_past_appointment_before_sending_it(page, citizen, step_url):
    url, draft = step_url
    log_in(page, citizen.email, next_path=url)

    date_input = _answer(page)

    assert date_input.evaluate("input => input.validity.rangeUnderflow") is True
    # nothing was sent: no answer from the server, the step as it was
    expect(page.locator("#field-appointment_date-error")).to_have_count(0)
    assert page.url.endswith(url)
    draft.refresh_from_db()
    assert "appointment_date" not in draft.data
