"""An application through a workflow with a parallel stage, clerks and the applicant each in a browser of their own.

The item is handled by 杭州市行政审批局: 受理 there, then a joint check by the applicant's county police
(杭州市公安局西湖区分局) and the city's housing bureau side by side, then 决定 back at the bureau.
Every clerk logs in through the login page with a password and a TOTP code. Routing between the
stages is done by a real Celery worker on the Redis broker, so where the next stage must open first
a page is reloaded until it shows, with a deadline.

Labels are looked up in the Chinese catalogue the way the page does it (``zh``), so the test
passes whether or not a string is translated yet.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import StaffRole, User
from approvals.models import Application
from approvals.workflow import ACCEPT, APPROVE, NOT_ACCEPT, REFUSE, RETURN, SUPPLEMENT
from services.models import Department, DepartmentKind, ServiceItem
from tests.approvals.builders import (
    PDF,
    make_applicable_item,
    make_county,
    submitted,
    workflow_stage,
    workflow_task,
)
from tests.browser.helpers import (
    ROUTING_SECONDS,
    decide,
    log_in,
    recorded,
    summary_value,
    wait_for_task,
    zh,
    zh_label,
    zh_plural,
    zh_result,
)
from tests.datahub.builders import make_wang_household
from tests.factories import enroll_totp, staff_member
from tests.services.builders import make_department, make_region

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("upload_root"),
]

SERVICE = "居住证明开具"
NOTE = "申请事由写得不够具体，证件照片模糊，请补正。"
NEW_REASON = "办理女儿入学手续，学校要求提供居住证明。"


@pytest.fixture
def department(db: None) -> Department:
    """The implementing department (the conftest's ``clerk`` works here): a kind the joint stage does not name."""
    return make_department(serial=1, kind=DepartmentKind.ADMINISTRATIVE_SERVICE, name="杭州市行政审批局")


@pytest.fixture
def police_clerk(db: None) -> User:
    police = make_department(
        serial=2, kind=DepartmentKind.PUBLIC_SECURITY, region=make_county(), name="杭州市公安局西湖区分局"
    )
    return staff_member("police-clerk@example.com", police, StaffRole.CLERK, last_name="周", first_name="敏")


@pytest.fixture
def housing_clerk(db: None) -> User:
    housing = make_department(
        serial=3, kind=DepartmentKind.HOUSING, region=make_region(), name="杭州市住房保障和房产管理局"
    )
    return staff_member("housing-clerk@example.com", housing, StaffRole.CLERK, last_name="吴", first_name="涛")


@pytest.fixture
def joint_item(department: Department) -> ServiceItem:
    """受理 → a joint check by two departments → 决定; a promised limit of 3 working days gives each task one."""
    checks = [APPROVE, REFUSE, RETURN]
    workflow = {
        "stages": [
            workflow_stage("accept", workflow_task("accept", name="受理", results=[ACCEPT, NOT_ACCEPT, SUPPLEMENT])),
            workflow_stage(
                "joint",
                workflow_task(
                    "police",
                    name="户籍核查",
                    department={"rule": "kind", "kind": "public_security", "level": "county"},
                    results=checks,
                ),
                workflow_task(
                    "housing",
                    name="住房核查",
                    department={"rule": "kind", "kind": "housing", "level": "city"},
                    results=checks,
                ),
            ),
            workflow_stage("decide", workflow_task("decide", name="决定", results=[APPROVE, REFUSE])),
        ]
    }
    make_wang_household()
    return make_applicable_item(department=department, workflow=workflow, promised_limit=3)


def claim(page: Any, row: Any, task_name: str) -> None:
    """Open the task from its queue row and claim it."""
    row.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/workbench/tasks/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{task_name}: {SERVICE}")
    page.get_by_role("button", name=zh("Claim this task")).click()
    expect(page.locator("main [role=status]")).to_have_text(zh("You hold this task now."))


def test_a_clerk_asks_for_more_the_citizen_supplements_two_departments_approve_and_the_citizen_sees_it_completed(
    page, new_page, celery_worker, citizen, clerk, police_clerk, housing_clerk, joint_item
):
    for staff in (clerk, police_clerk, housing_clerk):
        enroll_totp(staff)
    application = submitted(citizen, joint_item)
    number = application.number

    # The bureau's clerk logs in with the authenticator; the worker has routed the application to 受理.
    log_in(page, clerk.email, next_path="/workbench/", with_totp=True)
    row = wait_for_task(page, number, "受理")
    expect(row).to_have_class("row-soon")
    expect(row).to_contain_text(zh("Amber: due within 1 working day"))
    expect(row).to_contain_text(zh("Waiting"))
    claim(page, row, "受理")

    # 补齐补正: the reason and the photo, asked for at once.
    page.get_by_role("radio", name=zh_result(SUPPLEMENT), exact=True).check()
    page.get_by_label(zh("Opinion")).fill(NOTE)
    fields = page.get_by_role("group", name=zh("For 补齐补正: the answers to correct"))
    fields.get_by_role("checkbox", name="申请事由", exact=True).check()
    materials = page.get_by_role("group", name=zh("For 补齐补正: the materials to provide again"))
    materials.get_by_role("checkbox", name="证件照片", exact=True).check()
    page.get_by_role("button", name=zh("Record the result")).click()
    page.wait_for_url(re.compile(r"/workbench/$"))
    expect(page.locator("main [role=status]")).to_have_text(recorded("受理", number, SUPPLEMENT))
    asked = Application.objects.get(pk=application.pk)
    assert (asked.status, asked.supplement_request) == (
        Application.Status.SUPPLEMENT_REQUESTED,
        {"fields": ["reason"], "materials": ["photo"], "note": NOTE},
    )

    # The citizen, in a window of his own: two unread messages (submitted, and this request).
    citizen_page = new_page()
    log_in(citizen_page, citizen.email, next_path="/me/messages/")
    unread = zh_plural("%(counter)s unread", "%(counter)s unread", 2)
    expect(citizen_page.locator("#header-messages .visually-hidden")).to_have_text(unread)
    expect(citizen_page.locator("#unread-count")).to_have_text(
        zh_plural("You have %(counter)s unread message.", "You have %(counter)s unread messages.", 2)
    )
    subject = zh("%(service_name)s: more material is needed for application %(number)s") % {
        "service_name": SERVICE,
        "number": number,
    }
    citizen_page.get_by_role("link", name=subject).click()
    expect(citizen_page.locator("#message-body")).to_contain_text(NOTE)
    citizen_page.locator("#message-link").click()
    citizen_page.wait_for_url(f"**/me/applications/{number}/")
    expect(summary_value(citizen_page, zh("Status"))).to_have_text(
        zh_label(Application.Status.SUPPLEMENT_REQUESTED.label)
    )
    expect(citizen_page.locator("main .notice[role=status]")).to_contain_text(NOTE)
    citizen_page.get_by_role("link", name=zh("Provide what is asked")).click()

    # The supplement page asks for exactly the reason and the photo.
    citizen_page.wait_for_url(f"**/me/applications/{number}/supplement/")
    expect(citizen_page.get_by_role("heading", level=1)).to_have_text(zh("Provide what the department asks for"))
    # One form: the new answer and the new file are sent together.
    reason = citizen_page.get_by_label("申请事由")
    expect(reason).to_have_value(asked.data["reason"])
    reason.fill(NEW_REASON)
    citizen_page.get_by_label(f"{zh('Upload a new file')} 证件照片").set_input_files(
        {"name": "新证件照.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    citizen_page.get_by_role("button", name=zh("Send to the department")).click()
    citizen_page.wait_for_url(f"**/me/applications/{number}/")
    expect(citizen_page.locator("main [role=status]")).to_have_text(
        zh("Thank you. The department will continue with your application.")
    )
    supplemented = Application.objects.get(pk=application.pk)
    assert (supplemented.status, supplemented.data["reason"]) == (Application.Status.SUBMITTED, NEW_REASON)
    current = supplemented.attachments.filter(material_code="photo", replaced_at__isnull=True).get()
    assert current.original_name == "新证件照.pdf"

    # 受理 opens again; the clerk accepts.
    row = wait_for_task(page, number, "受理")
    claim(page, row, "受理")
    expect(page.locator("main")).to_contain_text(NEW_REASON)
    decide(page, "受理", number, ACCEPT)

    # The two departments of the joint check each claim and approve their own task.
    for staff, task_name in ((police_clerk, "户籍核查"), (housing_clerk, "住房核查")):
        staff_page = new_page()
        log_in(staff_page, staff.email, next_path="/workbench/", with_totp=True)
        row = wait_for_task(staff_page, number, task_name)
        claim(staff_page, row, task_name)
        decide(staff_page, task_name, number, APPROVE)

    # 决定 back at the bureau.
    row = wait_for_task(page, number, "决定")
    claim(page, row, "决定")
    decide(page, "决定", number, APPROVE)

    # The citizen reloads his application until it is completed.
    completed = zh_label(Application.Status.COMPLETED.label)
    status = summary_value(citizen_page, zh("Status"))
    deadline = time.monotonic() + ROUTING_SECONDS
    citizen_page.reload()
    while status.inner_text().strip() != completed and time.monotonic() < deadline:
        citizen_page.wait_for_timeout(200)
        citizen_page.reload()
    expect(status).to_have_text(completed)
    documents = citizen_page.locator("main ul.documents li")
    expect(documents).to_have_count(3)
    expect(documents.nth(0)).to_contain_text(zh("Notice to provide more information"))
    expect(documents.nth(1)).to_contain_text(zh("Notice of acceptance"))
    expect(documents.nth(2)).to_contain_text(zh("Decision to grant"))

    acceptance = citizen_page.get_by_role("link", name=f"{zh('Notice of acceptance')} (PDF)")
    href = acceptance.get_attribute("href")
    assert href == f"/me/applications/{number}/documents/acceptance.pdf"
    with citizen_page.expect_download() as download_info:
        acceptance.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    assert Path(download.path()).read_bytes().startswith(b"%PDF-")
    response = citizen_page.request.get(href)
    assert (response.status, response.headers["content-type"]) == (200, "application/pdf")
