"""Pages that read right at desktop width too: the bundle's table keeps each status on one line, and each
办件编号 in it copies back as the plain number."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import User
from approvals.bundles import actions as bundle_actions
from approvals.models import Application, BundleApplication
from approvals.workbench import actions as workbench_actions
from services.models import Audience, Bundle, Department
from tests.approvals.builders import complete_answers, make_applicable_item, pdf_upload, workflow_stage, workflow_task
from tests.approvals.workbench.helpers import task_in_review
from tests.conftest import SCREENSHOTS, page_problems
from tests.datahub.builders import make_wang_household
from tests.factories import enroll_totp
from tests.services.builders import make_theme

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("upload_root")]

ONE_STAGE = {"stages": [workflow_stage("decide", workflow_task("decide", name="审批"))], "instant": False}
# How many lines of text each status cell of the table takes.
STATUS_LINES = """() => [...document.querySelectorAll("table.bundle-children td.status-cell")].map((cell) => {
  const range = document.createRange();
  range.selectNodeContents(cell);
  return new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size;
})"""


@pytest.fixture
def submitted_bundle(
    citizen: User, department: Department, other_department: Department, unsent: None
) -> BundleApplication:
    """出生一件事 of two items of two departments, submitted by 王小明 (nothing sent to the broker)."""
    make_wang_household()
    residence = make_applicable_item(department=department, name="居住证明开具", workflow=ONE_STAGE)
    vaccination = make_applicable_item(department=other_department, name="预防接种证办理", workflow=ONE_STAGE)
    Bundle.objects.create(
        slug="birth",
        name="出生一件事",
        audience=Audience.PERSON,
        theme=make_theme(),
        description="一次填报、一次提交。",
        item_codes=[residence.implementation_code, vaccination.implementation_code],
    )
    application = bundle_actions.bundle_draft_start(user=citizen, slug="birth")
    bundle_actions.bundle_draft_update(bundle_id=application.pk, user=citizen, data=complete_answers())
    bundle_actions.bundle_attachment_add(
        bundle_id=application.pk, user=citizen, upload=pdf_upload(), material_code="photo"
    )
    return bundle_actions.bundle_submit(bundle_id=application.pk, user=citizen)


@pytest.fixture
def unsent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Routing promises stay in their rows (no worker runs here): a test routes them itself."""
    from approvals import outbox

    monkeypatch.setattr(outbox, "outbox_send", lambda outbox_id: None)


def log_in_as(page: Any, user: User, base_url: str) -> None:
    """The browser carries the session of ``user`` (the login pages have tests of their own)."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url}])


def test_the_bundle_table_keeps_each_status_on_one_line_at_desktop_width(page, live_server, citizen, submitted_bundle):
    log_in_as(page, citizen, live_server.url)

    page.goto(reverse("bundles:bundle", args=[submitted_bundle.public_id]))

    expect(page.get_by_role("heading", level=1)).to_have_text("出生一件事")
    assert page.evaluate(STATUS_LINES) == [1, 1]
    numbers = sorted(Application.objects.filter(bundle_application=submitted_bundle).values_list("number", flat=True))
    cells = page.locator("table.bundle-children .application-number")
    assert sorted(cells.all_inner_texts()) == numbers
    assert page_problems(page) == []
    if SCREENSHOTS:
        page.screenshot(path=Path(SCREENSHOTS) / "1280-bundle.png", full_page=True)


def test_the_phone_check_names_a_critical_violation_and_the_element_too_wide(page):
    page.set_viewport_size({"width": 375, "height": 740})
    page.set_content(
        '<html lang="en"><head><title>A page</title></head><body style="margin: 0"><main>'
        '<img src="data:,"><div id="wide" style="width: 500px">Wide</div></main></body></html>'
    )

    problems = page_problems(page)

    assert len(problems) == 2
    assert problems[0].startswith("about:blank: image-alt (critical): Images must have alternative text: img")
    assert problems[1] == "about:blank: 500 px wide in a 375 px window: div#wide (500 px)"


def test_the_english_task_page_fits_a_phone_and_its_table_of_steps_is_reached_by_keyboard(
    page, live_server, citizen, clerk, item, unsent
):
    # given a task in review: the task page lists two steps, and the phone pass checks it at 375 px
    task = task_in_review(citizen, item, clerk)
    workbench_actions.task_claim(task_id=task.pk, clerk=clerk)
    enroll_totp(clerk)  # staff reach the workbench only with MFA
    log_in_as(page, clerk, live_server.url)

    page.goto(f"/en/workbench/tasks/{task.pk}/")

    region = page.get_by_role("region", name="Tasks of this application")
    expect(region.locator("tbody tr")).to_have_count(2)
    region.focus()
    expect(region).to_be_focused()
    expect(region).to_have_attribute("tabindex", "0")
