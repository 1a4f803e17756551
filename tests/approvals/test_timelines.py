"""Timelines: one entry per event that says which task gave which result, and each opinion once."""

from __future__ import annotations

import itertools

import pytest
from django.utils import translation

from approvals.applications import tracking
from approvals.models import WorkflowTask
from tests.approvals.builders import claim_and_decide, submitted
from tests.approvals.helpers import open_task, route
from tests.approvals.workbench.helpers import client_of
from tests.helpers import logged_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


def _timeline(page: str) -> str:
    start = page.index('<ol class="timeline">')
    return page[start : page.index("</ol>", start)]


def test_the_public_timeline_tells_each_departments_result_apart(item, citizen, clerk, department):
    application = submitted(citizen, item)
    route()
    for result in ("受理", "同意", "同意"):
        claim_and_decide(open_task(application).pk, clerk, result, opinion="内部意见：材料齐全。")
        route()

    with translation.override("zh-hans"):
        texts = [event.text for event in tracking.public_timeline(application)]

    results = [text for text in texts if text.startswith("一个部门已给出办理结果")]
    assert results == [
        "一个部门已给出办理结果：受理（受理）",
        "一个部门已给出办理结果：审查（同意）",
        "一个部门已给出办理结果：决定（同意）",
    ]
    assert all(first != second for first, second in itertools.pairwise(texts))
    assert not [text for text in texts if "内部意见" in text]


def test_a_request_for_more_information_shows_its_note_once_to_the_applicant_and_the_clerk(item, citizen, clerk):
    application = submitted(citizen, item)
    route()
    note = "请补充近期白底免冠照片。"
    task = open_task(application)
    claim_and_decide(task.pk, clerk, "补齐补正", opinion=note, supplement_materials=["photo"])

    applicant_page = logged_in(citizen).get(f"/me/applications/{application.number}/").content.decode()
    clerk_page = client_of(clerk).get(f"/workbench/tasks/{task.pk}/").content.decode()

    # the request itself stands above the applicant's timeline, as what to do next
    assert _timeline(applicant_page).count(note) == 1
    assert clerk_page.count(note) == 1
    assert "一个部门已给出办理结果：受理（补齐补正）" in applicant_page


def test_a_refusals_reasons_show_once_and_an_approvals_internal_opinion_only_to_staff(item, citizen, clerk):
    application = submitted(citizen, item)
    route()
    claim_and_decide(open_task(application).pk, clerk, "受理", opinion="窗口核验原件一致。")
    route()
    reasons = "居住地址与登记信息不符。"
    review = open_task(application)
    claim_and_decide(review.pk, clerk, "不同意", opinion=reasons)
    route()

    applicant_page = logged_in(citizen).get(f"/me/applications/{application.number}/").content.decode()
    clerk_page = client_of(clerk).get(f"/workbench/tasks/{review.pk}/").content.decode()

    assert WorkflowTask.objects.get(pk=review.pk).opinion == reasons
    assert _timeline(applicant_page).count(reasons) == 1
    assert clerk_page.count(reasons) == 1
    # an approval's opinion is the department's own note: the tasks' table shows it to staff, the applicant never
    assert clerk_page.count("窗口核验原件一致。") == 1
    assert "窗口核验原件一致。" not in applicant_page
