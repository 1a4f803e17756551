"""Another person's ID number in an enterprise's application is masked for everyone but its owner and the staff."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.models import Enterprise, User
from approvals.applications import actions, submission
from approvals.bundles import actions as bundle_actions
from approvals.models import Application
from datahub.identity import mask_id
from demo.catalogue_data.fields import form
from demo.registry_data import LI_JIANGUO
from services.models import Audience, Bundle, Department, ServiceItem
from tests.approvals.builders import make_enterprise_item
from tests.factories import authorise_agent
from tests.helpers import logged_in

pytestmark = [pytest.mark.django_db]

FIELDS = ("enterprise_name", "uscc", "legal_representative", "applicant_name", "applicant_id_number", "declaration")
MASKED = mask_id(LI_JIANGUO.id_number)  # 3****************4


@pytest.fixture
def enterprise_form_item(department: Department) -> ServiceItem:
    schema, ui = form("单位申请表", FIELDS)
    return make_enterprise_item(department=department, form_schema=schema, form_ui=ui, materials=[])


@pytest.fixture
def drafted_by_the_representative(
    enterprise_form_item: ServiceItem, enterprise: Enterprise, legal_rep: User, enterprise_agent: User
) -> Application:
    """李建国 drafts for his enterprise: the prefill puts his own ID number in the answers."""
    authorise_agent(enterprise, enterprise_agent, legal_rep, item_codes=[])
    draft = actions.application_draft_start(
        user=legal_rep, service_code=enterprise_form_item.implementation_code, acting_for=enterprise
    )
    draft.refresh_from_db()
    assert draft.data["applicant_id_number"] == LI_JIANGUO.id_number
    return draft


def test_the_agent_reads_the_representatives_id_number_masked_through_the_api(
    drafted_by_the_representative, legal_rep, enterprise_agent
):
    url = f"/api/v1/applications/{drafted_by_the_representative.public_id}/"

    as_agent = logged_in(enterprise_agent).get(url)
    as_owner = logged_in(legal_rep).get(url)

    assert as_agent.status_code == 200
    assert as_agent.json()["data"]["applicant_id_number"] == MASKED
    assert as_agent.json()["data"]["applicant_name"] == "李建国"
    assert LI_JIANGUO.id_number not in as_agent.content.decode()
    assert as_owner.json()["data"]["applicant_id_number"] == LI_JIANGUO.id_number


def test_the_agent_reads_it_masked_on_the_check_page_and_the_application_page(
    drafted_by_the_representative, legal_rep, enterprise_agent
):
    draft = drafted_by_the_representative
    actions.application_draft_update(application_id=draft.pk, user=legal_rep, data={"declaration": True})
    check = reverse("approvals:draft_check", args=[draft.public_id])

    with translation.override("zh-hans"):
        check_as_agent = logged_in(enterprise_agent).get(check).content.decode()
        check_as_owner = logged_in(legal_rep).get(check).content.decode()

    assert MASKED in check_as_agent
    assert LI_JIANGUO.id_number not in check_as_agent
    assert LI_JIANGUO.id_number in check_as_owner

    submitted, _response = submission.application_submit(application_id=draft.pk, user=legal_rep)
    page = reverse("approvals:application", args=[submitted.number])

    with translation.override("zh-hans"):
        page_as_agent = logged_in(enterprise_agent).get(page).content.decode()
        page_as_owner = logged_in(legal_rep).get(page).content.decode()

    assert MASKED in page_as_agent
    assert LI_JIANGUO.id_number not in page_as_agent
    assert LI_JIANGUO.id_number in page_as_owner


def test_the_agent_edits_a_step_of_the_draft_without_seeing_or_losing_the_representatives_number(
    drafted_by_the_representative, enterprise_agent
):
    draft = drafted_by_the_representative
    step = reverse("approvals:draft_step", args=[draft.public_id, 2])
    agent = logged_in(enterprise_agent)

    with translation.override("zh-hans"):
        shown = agent.get(step).content.decode()
        saved = agent.post(step, {"applicant_name": "李建国", "applicant_id_number": MASKED, "continue": ""})
        refused = agent.post(step, {"applicant_name": "", "applicant_id_number": MASKED, "continue": ""})

    assert f'value="{MASKED}"' in shown
    assert LI_JIANGUO.id_number not in shown
    assert saved.status_code == 302
    assert refused.status_code == 400
    assert f'value="{MASKED}"' in refused.content.decode()
    assert LI_JIANGUO.id_number not in refused.content.decode()
    draft.refresh_from_db()
    assert draft.data["applicant_id_number"] == LI_JIANGUO.id_number


def test_the_agent_reads_it_masked_in_the_enterprise_s_bundle_through_the_api(
    enterprise_form_item, enterprise, legal_rep, enterprise_agent
):
    authorise_agent(enterprise, enterprise_agent, legal_rep, item_codes=[])
    Bundle.objects.create(
        slug="enterprise-change",
        name="企业变更一件事",
        audience=Audience.ENTERPRISE,
        description="一次填报。",
        item_codes=[enterprise_form_item.implementation_code],
    )
    bundle = bundle_actions.bundle_draft_start(user=legal_rep, slug="enterprise-change", acting_for=enterprise)
    url = f"/api/v1/bundle-applications/{bundle.public_id}/"

    as_agent = logged_in(enterprise_agent).get(url)
    as_owner = logged_in(legal_rep).get(url)

    assert as_agent.status_code == 200
    assert as_agent.json()["data"]["applicant_id_number"] == MASKED
    assert LI_JIANGUO.id_number not in as_agent.content.decode()
    assert as_owner.json()["data"]["applicant_id_number"] == LI_JIANGUO.id_number
