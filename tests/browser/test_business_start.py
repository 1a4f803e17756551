"""企业开办一件事 for a company that does not exist yet: the later services wait for 公司设立登记.

王小明, the future legal representative, applies as himself (he acts for no enterprise) in one merged form
and submits once. Only 公司设立登记 goes to 西湖区市场监管局; its clerk accepts and approves it, which gives
the new company its 统一社会信用代码. Then 公章刻制 (公安), 发票申领 (税务), 社保登记 (人社) and 公积金缴存登记
(公积金中心) go each to its own department, whose clerk sees the task, with the new company's code, in the
workbench. The items and departments are the demo catalogue's own, loaded by its loader narrowed to this bundle;
routing is done by a real Celery worker on the Redis broker.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import StaffRole, User
from approvals.models import Application, BundleApplication
from approvals.workflow import ACCEPT, APPROVE
from demo import catalogue
from demo.catalogue_data.bundles import BUNDLES
from demo.catalogue_data.items import ITEMS
from demo.catalogue_data.regions import XIHU_CODE
from demo.registry_data import WANG_XIAOMING
from services.codes import is_valid_uscc
from services.models import Department, DepartmentKind
from tests.approvals.builders import PDF
from tests.browser.helpers import (
    ROUTING_SECONDS,
    log_in,
    recorded,
    wait_for_task,
    zh,
    zh_result,
)
from tests.factories import enroll_totp, staff_member

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("upload_root"),
]


FOUNDING = "公司设立登记"
# each later service, the kind of department that handles it, and the name of its task there
LATER = (
    ("公章刻制备案", DepartmentKind.PUBLIC_SECURITY, "备案"),
    ("发票申领", DepartmentKind.TAXATION, "核定并发放"),
    ("单位社会保险登记", DepartmentKind.HUMAN_RESOURCES, "登记"),
    ("住房公积金单位缴存登记", DepartmentKind.HOUSING_FUND, "登记开户"),
)
COMPANY = "杭州新芽科技有限公司"
WAITS = zh("Goes to its department when %(awaited)s is approved") % {"awaited": FOUNDING}


@pytest.fixture
def business_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's 企业开办一件事 with its five items and every demo department."""
    names = {FOUNDING, *(name for name, _kind, _task in LATER)}
    monkeypatch.setattr(catalogue, "ITEMS", tuple(spec for spec in ITEMS if spec.name in names))
    monkeypatch.setattr(catalogue, "BUNDLES", tuple(spec for spec in BUNDLES if spec.slug == "business-start"))
    catalogue.seed_catalogue()


def _clerk(kind: str, serial: int) -> User:
    """A clerk (with an authenticator) of the department of this kind that handles the bundle's item."""
    region = "330100000000" if kind == DepartmentKind.HOUSING_FUND else XIHU_CODE
    department = Department.objects.get(kind=kind, region__code=region)
    clerk = staff_member(f"clerk{serial}@example.com", department, StaffRole.CLERK)
    enroll_totp(clerk)
    return clerk


def _upload(page: Any, code: str, name: str) -> None:
    material = page.locator(f"#material-{code}")
    material.get_by_label(name).set_input_files({"name": f"{name}.pdf", "mimeType": "application/pdf", "buffer": PDF})
    material.get_by_role("button", name=f"{zh('Upload')} {name}").click()
    expect(page.get_by_role("link", name=f"{name}.pdf")).to_be_visible()


def _continue(page: Any) -> None:
    page.locator("form.application-form .actions button[name=continue]").click()


def _claim_and_decide(page: Any, row: Any, number: str, task_name: str, result: str) -> None:
    row.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/workbench/tasks/\d+/$"))
    page.get_by_role("button", name=zh("Claim this task")).click()
    expect(page.locator("main [role=status]")).to_have_text(zh("You hold this task now."))
    page.get_by_role("radio", name=zh_result(result), exact=True).check()
    page.get_by_role("button", name=zh("Record the result")).click()
    page.wait_for_url(re.compile(r"/workbench/$"))
    expect(page.locator("main [role=status]")).to_have_text(recorded(task_name, number, result))


def test_a_new_company_is_registered_first_and_then_each_department_gets_its_own_task_with_the_new_code(
    page, new_page: Callable[[], Any], celery_worker, citizen, business_start
):
    market_clerk = _clerk(DepartmentKind.MARKET_REGULATION, 1)
    later_clerks = [_clerk(kind, serial) for serial, (_name, kind, _task) in enumerate(LATER, 2)]

    # The start page: he applies as himself, and is told what waits for the registration.
    log_in(page, citizen.email, next_path="/services/bundles/business-start/apply/")
    main = page.locator("main")
    expect(main).to_contain_text(
        zh(
            "This bundle registers a new enterprise. Apply as yourself, its future legal representative: you do not "
            "act for an existing organisation, and you need no business licence."
        )
    )
    expect(main).to_contain_text("公章刻制备案在公司设立登记核准后办理，使用新企业的统一社会信用代码。")
    expect(main).not_to_contain_text(zh("You are applying on behalf of %(name)s.").split("%")[0])
    page.get_by_role("button", name=zh("Start now")).click()
    page.wait_for_url("**/me/bundles/*/")
    draft_url = page.url

    # One form for the five services: nothing asks for a credit code or the company's registered name.
    page.goto(f"{draft_url}step/1/")
    expect(page.locator("main")).not_to_contain_text("统一社会信用代码")
    page.get_by_label("拟设立名称").fill(COMPANY)
    page.get_by_label("有限责任公司", exact=True).check()
    page.get_by_label("注册资本（万元）").fill("100")
    page.get_by_label("经营范围").fill("软件开发；信息技术咨询服务")
    page.get_by_label("股东名称或姓名").fill("王小明")
    page.get_by_label("认缴出资额（万元）").fill("100")
    page.get_by_label("证件号码").fill(WANG_XIAOMING.id_number)
    page.get_by_label("从业人员人数").fill("3")
    _continue(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("单位信息")
    expect(page.locator("main")).not_to_contain_text("单位名称")
    page.get_by_label("区县").select_option(XIHU_CODE)
    page.get_by_label("详细地址").fill("文三路1号")
    page.get_by_label("法定代表人", exact=True).fill("王小明")
    page.get_by_label("法定代表人公民身份号码").fill(WANG_XIAOMING.id_number)
    page.get_by_label("经办人姓名").fill("王小明")
    page.get_by_label("经办人联系电话").fill("13712349050")
    _continue(page)
    page.get_by_label(re.compile(r"^本人（单位）承诺所填信息")).check()
    _continue(page)

    # Materials once; neither the licence nor the company's registry record is asked for.
    page.wait_for_url("**/materials/")
    expect(page.locator("#material-business_license")).to_have_count(0)
    expect(page.locator("#material-enterprise_record")).to_have_count(0)
    for code, name in (
        ("application_form", "公司登记（备案）申请书"),
        ("articles", "公司章程"),
        ("shareholder_proof", "股东主体资格文件或者自然人身份证明"),
        ("appointment_proof", "法定代表人、董事、监事和经理的任职文件"),
        ("site_proof", "住所（经营场所）使用证明"),
        ("id_card", "法定代表人居民身份证"),
    ):
        _upload(page, code, name)
    page.get_by_role("link", name=zh("Continue to check your answers")).click()
    page.wait_for_url("**/check/")
    expect(page.locator("#error-summary")).to_have_count(0)
    page.locator("#submit-form input[name=declaration]").check()
    page.locator("#submit-form button[type=submit]").click()

    # The bundle's page: five applications; the four later ones wait for the registration.
    page.wait_for_url("**/me/bundles/*/")
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.filter(has_text=WAITS)).to_have_count(4)
    bundle = BundleApplication.objects.get()
    children = {child.service.name: child for child in bundle.children.select_related("service")}
    numbers = {name: str(child.number) for name, child in children.items()}
    assert {child.acting_for_id for child in children.values()} == {None}
    founding_number = numbers[FOUNDING]

    # Only the registration is routed: its clerk accepts it, then approves it.
    market = new_page()
    log_in(market, market_clerk.email, next_path="/workbench/", with_totp=True)
    _claim_and_decide(market, wait_for_task(market, founding_number, "受理"), founding_number, "受理", ACCEPT)
    assert not any(
        Application.objects.get(pk=child.pk).tasks.exists() for name, child in children.items() if name != FOUNDING
    )
    decide_task = "审核并核发营业执照"
    _claim_and_decide(
        market, wait_for_task(market, founding_number, decide_task), founding_number, decide_task, APPROVE
    )

    # Each later service reaches its own department, with the code the registration issued.
    deadline = time.monotonic() + ROUTING_SECONDS
    while not Application.objects.get(pk=children[FOUNDING].pk).result.get("uscc") and time.monotonic() < deadline:
        time.sleep(0.2)
    uscc = Application.objects.get(pk=children[FOUNDING].pk).result["uscc"]
    assert is_valid_uscc(uscc)
    for clerk, (name, _kind, task_name) in zip(later_clerks, LATER, strict=True):
        number = numbers[name]
        clerk_page = new_page()
        log_in(clerk_page, clerk.email, next_path="/workbench/", with_totp=True)
        row = wait_for_task(clerk_page, number, task_name)
        row.get_by_role("link").click()
        clerk_page.wait_for_url(re.compile(r"/workbench/tasks/\d+/$"))
        expect(clerk_page.locator("main")).to_contain_text(uscc)
        expect(clerk_page.locator("main")).to_contain_text(COMPANY)
        # the other departments' tasks are not in this clerk's queue
        others = [numbers[other] for other, _k, _t in LATER if other != name]
        clerk_page.goto("/workbench/")
        for other in others:
            expect(clerk_page.get_by_role("link", name=other, exact=True)).to_have_count(0)
        # Left open: at the end ``open_context`` checks its pages at 375 px with its cookies, then closes it.

    # The applicant's page no longer says that anything waits.
    page.reload()
    expect(rows.filter(has_text=WAITS)).to_have_count(0)
