"""免提交 means it: a certificate's or registry's material is fetched, one of the counter is shown or signed there."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from approvals.applications import actions, submission
from approvals.materials import material_states
from approvals.models import Application
from tests.approvals.builders import complete_answers, make_applicable_item, pdf_upload
from tests.datahub.builders import make_wang_household
from tests.helpers import logged_in

pytestmark = [pytest.mark.django_db]

MATERIALS: list[dict[str, Any]] = [
    {"code": "id_card", "name": "居民身份证", "required": True, "form": "original", "source": "certificate:id_card"},
    {
        "code": "household_record",
        "name": "户籍信息",
        "required": True,
        "form": "electronic",
        "source": "registry:population",
    },
    {
        "code": "marriage_statement",
        "name": "申请结婚登记声明书",
        "required": True,
        "form": "original",
        "source": "upload",
        "at_counter": True,
    },
    {"code": "photo", "name": "证件照片", "required": True, "form": "electronic", "source": "upload"},
]


@pytest.fixture
def draft(department: Any, citizen: Any) -> Application:
    make_wang_household()  # 王小明's household record is then read from the population registry
    item = make_applicable_item(department=department, materials=MATERIALS)
    application = actions.application_draft_start(user=citizen, service_code=item.implementation_code)
    actions.application_draft_update(application_id=application.pk, user=citizen, data=complete_answers())
    return Application.objects.get(pk=application.pk)


def test_only_the_required_upload_holds_up_a_submission_with_an_empty_wallet(draft, citizen):
    states = {state.code: (state.provision, state.is_upload_needed) for state in material_states(draft)}

    assert states == {
        "id_card": ("fetched", False),
        "household_record": ("fetched", False),
        "marriage_statement": ("counter", False),
        "photo": ("upload", True),
    }
    with translation.override("en"):
        assert submission.submission_problems(draft) == {"material.photo": ["Provide this material: 证件照片."]}

    actions.attachment_add(application_id=draft.pk, user=citizen, upload=pdf_upload(), material_code="photo")

    assert submission.submission_problems(draft) == {}


def test_the_materials_page_asks_no_upload_for_the_counter_or_the_registry_and_says_why(draft, citizen):
    url = reverse("approvals:draft_materials", args=[draft.public_id])

    with translation.override("zh-hans"):
        html = logged_in(citizen).get(url).content.decode()

    assert 'id="file-photo"' in html
    assert 'id="file-id_card"' in html  # a copy may still be uploaded, but need not be
    assert 'id="file-marriage_statement"' not in html
    assert 'id="file-household_record"' not in html
    assert "无需上传：办理时在窗口当面出示或签署。" in html
    assert "无需提供：部门直接从政府登记信息中读取。" in html  # the household record, found in the registry
    assert html.count("免提交：部门从电子证照库或政府数据共享调取，您也可以自愿上传一份。") == 1


def test_the_api_says_how_each_material_is_provided(draft, citizen):
    response = logged_in(citizen).get(f"/api/v1/applications/{draft.public_id}/")

    assert response.status_code == 200
    assert [(each["code"], each["provision"], each["is_upload_needed"]) for each in response.json()["materials"]] == [
        ("id_card", "fetched", False),
        ("household_record", "fetched", False),
        ("marriage_statement", "counter", False),
        ("photo", "upload", True),
    ]
