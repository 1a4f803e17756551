"""The formal documents of an application as PDFs: which exist, what they say, who may download them."""

from __future__ import annotations

import datetime
import io
import logging
import re
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import User
from approvals.applications import actions, submission
from approvals.documents import notices
from approvals.models import Application, WorkflowTask
from approvals.routing import deadlines
from approvals.workbench import actions as workbench_actions
from demo.registry_data import WANG_XIAOMING
from services.models import Department, DepartmentKind, ServiceItem
from tests.approvals.builders import make_applicable_item, pdf_upload, submitted
from tests.approvals.helpers import route
from tests.datahub.builders import make_wang_household
from tests.factories import enroll_totp
from tests.helpers import logged_in
from tests.services.factories import DepartmentFactory, region

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

REVIEW_RIGHTS = (
    "如不服本决定，可以自收到本决定书之日起六十日内向杭州市人民政府申请行政复议，"
    "也可以自收到本决定书之日起六个月内依法向人民法院提起行政诉讼。"
)


@pytest.fixture
def item(department: Department) -> ServiceItem:
    """Not the shared ``item``: a licence (食品经营许可) of a department with a short name, as documents cite both."""
    department.short_name = "杭市监"
    department.kind = DepartmentKind.MARKET_REGULATION
    department.save(update_fields=["short_name", "kind"])
    make_wang_household()
    return make_applicable_item(department=department, name="食品经营许可", item_type="01")


def _decide(application: Application, clerk: User, result: str, opinion: str = "", **supplement: list[str]) -> None:
    route()
    task = WorkflowTask.objects.get(application=application, status=WorkflowTask.Status.PENDING)
    workbench_actions.task_claim(task_id=task.pk, clerk=clerk)
    workbench_actions.task_decide(task_id=task.pk, clerk=clerk, result=result, opinion=opinion, **supplement)
    route()


def _text(content: bytes) -> str:
    """The PDF's text with the line breaks of its layout taken out."""
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    return "".join("".join(page.extract_text() for page in reader.pages).split())


def _download(client: Client, application: Application, kind: str) -> str:
    response = client.get(reverse("approvals:document", args=[application.number, kind]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return _text(response.content)


def _kinds(application: Application) -> list[str]:
    return [document.kind for document in notices.documents_of(application)]


def _today() -> str:
    return notices.chinese_date(timezone.localdate())


def test_a_submitted_application_has_no_documents_yet(item, citizen):
    application = submitted(citizen, item)
    route()

    assert _kinds(application) == []
    response = logged_in(citizen).get(reverse("approvals:document", args=[application.number, "acceptance"]))
    assert response.status_code == 404
    page = logged_in(citizen).get(reverse("approvals:application", args=[application.number])).content.decode()
    assert "/documents/" not in page


def test_the_acceptance_notice_gives_the_number_the_time_limit_and_no_appeal(item, citizen, clerk):
    application = submitted(citizen, item)
    _decide(application, clerk, "受理")
    application.refresh_from_db()
    year = timezone.localdate().year

    response = logged_in(citizen).get(reverse("approvals:document", args=[application.number, "acceptance"]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"] == (
        f'attachment; filename="acceptance-{application.number}.pdf"; '
        f"filename*=UTF-8''{quote(f'受理通知书-{application.number}.pdf')}"
    )
    text = _text(response.content)
    assert f"杭市监受〔{year}〕1号" in text
    assert text.startswith("杭州市市场监督管理局受理通知书")
    assert "申请人：王小明" in text
    assert f"证件：居民身份证{citizen.id_number_masked}" in text
    assert WANG_XIAOMING.id_number not in text
    assert "申请事项：食品经营许可" in text
    assert "第三十二条第一款第（五）项" in text
    assert "法定办结时限为20个工作日，本机关承诺办结时限为1个工作日" in text
    assert f"本机关将于{notices.chinese_date(application.due_date)}前作出决定" in text
    assert f"杭州市市场监督管理局（印章）{_today()}" in text
    assert "行政复议" not in text
    assert "行政诉讼" not in text


def test_the_acceptance_notice_keeps_its_due_date_and_bytes_after_an_extension(item, citizen, clerk, supervisor):
    application = submitted(citizen, item)
    _decide(application, clerk, "受理")
    application.refresh_from_db()
    first_due = application.due_date
    url = reverse("approvals:document", args=[application.number, "acceptance"])
    before = logged_in(citizen).get(url).content

    workbench_actions.application_extend(
        application_id=application.pk, supervisor=supervisor, days=3, reason="需要现场核查。"
    )
    application.refresh_from_db()

    assert application.due_date != first_due
    after = logged_in(citizen).get(url).content
    assert after == before
    assert f"本机关将于{notices.chinese_date(first_due)}前作出决定" in _text(after)


def test_each_supplement_notice_lists_everything_asked_and_the_clerks_note(item, citizen, clerk):
    application = submitted(citizen, item)
    _decide(
        application,
        clerk,
        "补齐补正",
        opinion="照片须为近期白底免冠照。",
        supplement_fields=["phone"],
        supplement_materials=["photo"],
    )
    # the applicant answers; the clerk accepts, and in review the department asks again, for another answer only
    actions.attachment_add(application_id=application.pk, user=citizen, upload=pdf_upload(), material_code="photo")
    submission.application_supplement(application_id=application.pk, user=citizen, data={"phone": "13712349051"})
    _decide(application, clerk, "受理")
    submission.application_request_supplement(
        application_id=application.pk,
        actor=clerk,
        department_id=application.department_id,
        fields=["reason"],
        materials=[],
        note="申请事由写得不清楚。",
    )
    year = timezone.localdate().year

    kinds = [kind for kind in _kinds(application) if kind.startswith("supplement-")]
    assert _kinds(application)[1] == "acceptance"
    assert len(kinds) == 2
    assert all(re.fullmatch(r"supplement-\d+", kind) for kind in kinds)
    first = _download(logged_in(citizen), application, kinds[0])
    second = _download(logged_in(citizen), application, kinds[1])

    assert f"杭市监补〔{year}〕1号" in first
    assert "补正通知书" in first
    assert "第三十二条第一款第（四）项" in first
    assert (
        "一、需要补正的申请信息：1.联系电话二、需要补正的申请材料：1.证件照片三、补正说明：照片须为近期白底免冠照。"
        in first
    )
    assert "申请事由" not in first
    assert f"杭市监补〔{year}〕2号" in second
    assert "一、需要补正的申请信息：1.申请事由二、补正说明：申请事由写得不清楚。" in second
    assert "证件照片" not in second
    assert "行政复议" not in first + second


def test_the_decision_not_to_accept_gives_the_reasons_and_the_right_of_review(item, citizen, clerk):
    application = submitted(citizen, item)
    _decide(application, clerk, "不予受理", opinion="申请事项不属于本机关职权范围，请向区市场监管局申请。")
    year = timezone.localdate().year

    assert _kinds(application) == ["non-acceptance"]
    text = _download(logged_in(citizen), application, "non-acceptance")

    assert text.startswith("杭州市市场监督管理局不予受理决定书")
    assert f"杭市监不受〔{year}〕1号" in text
    assert "本机关决定不予受理。理由：申请事项不属于本机关职权范围，请向区市场监管局申请。" in text
    assert REVIEW_RIGHTS in text
    for kind in ("acceptance", "grant", "refusal"):
        response = logged_in(citizen).get(reverse("approvals:document", args=[application.number, kind]))
        assert response.status_code == 404


def test_a_granted_licence_has_its_acceptance_and_decision_without_an_appeal(item, citizen, clerk):
    application = submitted(citizen, item)
    _decide(application, clerk, "受理")
    _decide(application, clerk, "同意")
    _decide(application, clerk, "同意")
    application.refresh_from_db()
    year = timezone.localdate().year

    assert application.status == Application.Status.COMPLETED
    assert _kinds(application) == ["acceptance", "grant"]
    text = _download(logged_in(citizen), application, "grant")

    assert text.startswith("杭州市市场监督管理局准予行政许可决定书")
    assert f"杭市监准〔{year}〕1号" in text
    assert "第三十八条第一款" in text
    assert "本机关决定准予行政许可" in text
    assert "依据：《中华人民共和国民法典》第一千零四十九条" in text
    assert "行政复议" not in text


def test_a_refused_licence_gives_the_reviewers_opinion_and_the_right_of_review(item, citizen, clerk):
    application = submitted(citizen, item)
    _decide(application, clerk, "受理")
    _decide(application, clerk, "不同意", opinion="经营场所与申报的布局流程不符。")
    year = timezone.localdate().year

    assert _kinds(application) == ["acceptance", "refusal"]
    text = _download(logged_in(citizen), application, "refusal")

    assert text.startswith("杭州市市场监督管理局不予行政许可决定书")
    assert f"杭市监不准〔{year}〕1号" in text
    assert f"本机关于{_today()}受理" in text
    assert "理由：经营场所与申报的布局流程不符。" in text
    assert "第三十八条第二款" in text
    assert REVIEW_RIGHTS in text
    assert "行政复议" not in _download(logged_in(citizen), application, "acceptance")


def test_a_licence_granted_on_trust_says_it_will_be_verified(department, citizen):
    make_wang_household()
    verify = {"key": "verify", "name": "核查", "department": {"rule": "implementing"}, "results": ["同意", "不同意"]}
    item = make_applicable_item(
        department=department,
        item_type="01",
        workflow={"stages": [{"key": "verify", "tasks": [verify]}], "trust_first": True},
    )
    application = submitted(citizen, item)
    route()

    assert _kinds(application) == ["acceptance", "grant"]
    text = _download(logged_in(citizen), application, "grant")
    assert "已书面承诺符合规定的条件、标准，本机关依照告知承诺制，决定准予行政许可" in text
    assert "经核查不符合条件的，将依法撤销本决定" in text


def test_an_application_nobody_asked_to_supplement_in_five_working_days_is_deemed_accepted(item, citizen):
    application = submitted(citizen, item)
    route()
    received = timezone.now() - datetime.timedelta(days=14)
    Application.objects.filter(pk=application.pk).update(submitted_at=received)

    assert deadlines.acceptance_sweep() == 1
    text = _download(logged_in(citizen), application, "acceptance")

    assert f"你于{notices.chinese_date(notices.local_day(received))}提出的食品经营许可申请" in text
    assert "本机关未在收到申请材料之日起五个工作日内一次告知需要补正的全部内容" in text
    assert "自收到申请材料之日起即为受理" in text
    assert f"杭州市市场监督管理局（印章）{_today()}" in text


def test_a_service_that_is_not_a_licence_is_granted_by_a_decision_to_grant(department, citizen, clerk):
    # given a public service (事项类型 20) of a department without a short name
    make_wang_household()
    item = make_applicable_item(department=department)
    application = submitted(citizen, item)
    _decide(application, clerk, "受理")
    _decide(application, clerk, "同意")
    _decide(application, clerk, "同意")
    year = timezone.localdate().year

    text = _download(logged_in(citizen), application, "grant")

    assert text.startswith("杭州市市场监督管理局准予办理决定书")
    assert f"杭州市市场监督管理局准〔{year}〕1号" in text
    assert "行政许可" not in text


def test_an_unknown_kind_or_another_applications_supplement_is_not_found(item, citizen, clerk):
    application = submitted(citizen, item)
    _decide(application, clerk, "补齐补正", opinion="请补充照片。", supplement_materials=["photo"])
    other = submitted(citizen, item)
    _decide(other, clerk, "受理")
    (supplement,) = _kinds(application)
    client = logged_in(citizen)

    assert client.get(reverse("approvals:document", args=[application.number, supplement])).status_code == 200
    for number, kind in (
        (other.number, supplement),  # the event is the first application's
        (application.number, "supplement-0"),
        (application.number, "supplement"),
        (application.number, "licence"),
    ):
        assert client.get(reverse("approvals:document", args=[number, kind])).status_code == 404


def test_who_may_download_a_document(item, citizen, other_citizen, clerk, other_clerk):
    application = submitted(citizen, item)
    _decide(application, clerk, "受理")
    owner_url = reverse("approvals:document", args=[application.number, "acceptance"])
    staff_url = reverse("approvals:staff_document", args=[application.public_id, "acceptance"])
    enroll_totp(clerk)
    enroll_totp(other_clerk)

    assert Client().get(owner_url).status_code == 302  # to the login
    assert logged_in(other_citizen).get(owner_url).status_code == 404
    assert logged_in(clerk).get(owner_url).status_code == 404  # staff use the workbench address
    assert logged_in(citizen).get(staff_url).status_code == 404  # not staff
    assert logged_in(other_clerk).get(staff_url).status_code == 404  # another department
    assert logged_in(citizen).get(owner_url).status_code == 200


def test_a_clerk_of_the_handling_department_downloads_a_document_and_it_is_logged(item, citizen, clerk, caplog):
    application = submitted(citizen, item)
    _decide(application, clerk, "不予受理", opinion="不属于本机关职权范围。")
    enroll_totp(clerk)
    url = reverse("approvals:staff_document", args=[application.public_id, "non-acceptance"])

    with caplog.at_level(logging.INFO, logger="approvals.documents.views"):
        response = logged_in(clerk).get(url)

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert REVIEW_RIGHTS in _text(response.content)
    (record,) = [record for record in caplog.records if record.name == "approvals.documents.views"]
    assert record.levelno == logging.INFO
    assert (record.viewer_id, record.application_id, record.document) == (clerk.pk, application.pk, "non-acceptance")


def test_a_staff_download_of_a_document_the_application_lacks_is_not_found_nor_logged(item, citizen, clerk, caplog):
    application = submitted(citizen, item)
    route()
    enroll_totp(clerk)
    url = reverse("approvals:staff_document", args=[application.public_id, "acceptance"])

    with caplog.at_level(logging.INFO, logger="approvals.documents.views"):
        assert logged_in(clerk).get(url).status_code == 404

    assert [record for record in caplog.records if record.name == "approvals.documents.views"] == []


def test_the_application_page_links_every_document_and_only_those(item, citizen, clerk):
    application = submitted(citizen, item)
    _decide(application, clerk, "补齐补正", opinion="请补充照片。", supplement_materials=["photo"])
    actions.attachment_add(application_id=application.pk, user=citizen, upload=pdf_upload(), material_code="photo")
    submission.application_supplement(application_id=application.pk, user=citizen, data={})
    _decide(application, clerk, "受理")
    _decide(application, clerk, "不同意", opinion="条件不符。")

    page = logged_in(citizen).get(reverse("approvals:application", args=[application.number])).content.decode()

    links = re.findall(r'href="([^"]*/documents/[^"]*)"', page)
    expected = [reverse("approvals:document", args=[application.number, kind]) for kind in _kinds(application)]
    assert len(expected) == 3
    assert links == expected
    assert _kinds(application)[1:] == ["acceptance", "refusal"]


def test_the_right_of_review_goes_where_the_law_sends_it(db):
    city = DepartmentFactory.create(name="杭州市市场监督管理局", kind=DepartmentKind.MARKET_REGULATION)
    county = DepartmentFactory.create(
        name="杭州市西湖区民政局",
        kind=DepartmentKind.CIVIL_AFFAIRS,
        region=region("330106000000", "西湖区"),
    )
    tax = DepartmentFactory.create(name="国家税务总局杭州市税务局", kind=DepartmentKind.TAXATION)

    assert notices.review_authority(city) == "杭州市人民政府"
    assert notices.review_authority(county) == "杭州市西湖区人民政府"
    assert notices.review_authority(tax) == "上一级税务机关"


def test_dates_are_written_the_chinese_way_in_shanghai_time():
    moment = datetime.datetime(2026, 11, 26, 17, 30, tzinfo=datetime.UTC)  # 01:30 the next day in Shanghai

    assert notices.chinese_date(notices.local_day(moment)) == "2026年11月27日"
    assert notices.chinese_date(datetime.date(2027, 1, 5)) == "2027年1月5日"
