"""企业开办一件事: a bundle for an enterprise that does not exist yet, whose later children wait for the first."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from accounts.models import StaffRole, User
from approvals.applications import submission
from approvals.bundles import actions as bundle_actions
from approvals.bundles import order
from approvals.models import Application, ApplicationEvent, BundleApplication, Outbox, WorkflowTask
from approvals.routing import engine
from core.errors import DomainError
from demo.catalogue_data.fields import form
from services.codes import is_valid_uscc
from services.models import Audience, Bundle, Department, DepartmentKind, ServiceItem
from tests.approvals.builders import (
    STANDARD_WORKFLOW,
    claim_and_decide,
    make_applicable_item,
    make_county,
    workflow_stage,
    workflow_task,
)
from tests.factories import staff_member
from tests.helpers import logged_in
from tests.services.builders import make_department, make_theme

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases, pytest.mark.usefixtures("upload_root", "unsent")]

ONE_STAGE = {"stages": [workflow_stage("handle", workflow_task("handle", name="备案"))], "instant": False}
ENTERPRISE_RECORD = {
    "code": "enterprise_record",
    "name": "企业登记信息",
    "required": True,
    "form": "electronic",
    "source": "registry:legal_person",
}
LICENCE = {
    "code": "business_license",
    "name": "营业执照",
    "required": True,
    "form": "original",
    "source": "certificate:business_license",
}
LATER_FIELDS = ("enterprise_name", "uscc", "legal_representative", "contact_phone", "declaration")


def _item(department: Department, name: str, fields: tuple[str, ...], **overrides: Any) -> ServiceItem:
    schema, ui = form(f"{name}申请表", fields)
    values: dict[str, Any] = {
        "name": name,
        "served_parties": ["2"],
        "for_persons": False,
        "for_enterprises": True,
        "form_schema": schema,
        "form_ui": ui,
        "materials": [],
    }
    values.update(overrides)
    return make_applicable_item(department=department, **values)


@pytest.fixture
def police(db: None) -> Department:
    # in a county of its own: the conftest's departments are of any kind, in the city or in 宁波
    return make_department(serial=7, kind=DepartmentKind.PUBLIC_SECURITY, region=make_county(), name="西湖区公安分局")


@pytest.fixture
def police_clerk(police: Department) -> User:
    return staff_member("police@example.com", police, StaffRole.CLERK)


@pytest.fixture
def items(department: Department, other_department: Department, police: Department) -> list[ServiceItem]:
    founding = _item(
        department,
        "公司设立登记",
        ("proposed_name", "legal_representative", "business_scope", "declaration"),
        workflow=STANDARD_WORKFLOW,
    )
    seal = _item(police, "公章刻制备案", LATER_FIELDS, materials=[LICENCE], workflow=ONE_STAGE)
    housing_fund = _item(
        other_department, "住房公积金单位缴存登记", LATER_FIELDS, materials=[ENTERPRISE_RECORD], workflow=ONE_STAGE
    )
    return [founding, seal, housing_fund]


@pytest.fixture
def bundle(items: list[ServiceItem]) -> Bundle:
    founding, seal, housing_fund = (item.implementation_code for item in items)
    return Bundle.objects.create(
        slug="business-start",
        name="企业开办一件事",
        audience=Audience.ENTERPRISE,
        theme=make_theme("business-start", "企业开办", "enterprise"),
        item_codes=[founding, seal, housing_fund],
        depends_on={seal: [founding], housing_fund: [founding]},
        founding_item_code=founding,
    )


ANSWERS = {
    "proposed_name": "杭州新芽科技有限公司",
    "legal_representative": "王小明",
    "business_scope": "软件开发；信息技术咨询服务",
    "contact_phone": "13712349050",
    "declaration": True,
}


def _submitted(citizen: User) -> BundleApplication:
    application = bundle_actions.bundle_draft_start(user=citizen, slug="business-start")
    bundle_actions.bundle_draft_update(bundle_id=application.pk, user=citizen, data=ANSWERS)
    return bundle_actions.bundle_submit(bundle_id=application.pk, user=citizen)


def _children(application: BundleApplication) -> list[Application]:
    return list(Application.objects.filter(bundle_application=application).select_related("service").order_by("pk"))


def _route() -> int:
    pending = list(Outbox.objects.filter(processed_at__isnull=True).order_by("pk").values_list("pk", flat=True))
    return sum(engine.outbox_process(outbox_id=outbox_id) for outbox_id in pending)


def _decide_open(child: Application, clerk: User, *, accept: str = "受理", decide: str = "同意") -> None:
    """Decide the child's open tasks, stage after stage, until none is open."""
    while (task := WorkflowTask.objects.filter(application=child, status__in=WorkflowTask.OPEN).first()) is not None:
        result = accept if task.task_key == "accept" else decide
        claim_and_decide(task.pk, clerk, result, opinion="" if result in ("受理", "同意") else "不符合规定")
        _route()


# --- start and submit -------------------------------------------------------------------------------


def test_the_future_legal_representative_applies_as_themselves_and_is_not_asked_what_registration_gives(
    bundle, items, citizen
):
    application = bundle_actions.bundle_draft_start(user=citizen, slug="business-start")

    assert application.acting_for is None
    assert order.not_asked(bundle, items) == {
        "uscc",
        "enterprise_name",
        "material.business_license",
        "material.enterprise_record",
    }
    with pytest.raises(DomainError) as refused:
        bundle_actions.bundle_draft_update(bundle_id=application.pk, user=citizen, data={"uscc": "bad"})
    assert refused.value.code == "validation_error"


def test_acting_for_an_existing_enterprise_is_refused(bundle, enterprise, legal_rep):
    with pytest.raises(DomainError) as refused:
        bundle_actions.bundle_draft_start(user=legal_rep, slug="business-start", acting_for=enterprise)

    assert refused.value.code == "wrong_audience"
    assert BundleApplication.objects.count() == 0


def test_only_the_first_is_routed_while_it_is_pending(bundle, items, citizen, clerk):
    application = _submitted(citizen)
    founding, seal, housing_fund = _children(application)

    assert {child.status for child in (founding, seal, housing_fund)} == {Application.Status.SUBMITTED}
    assert all(child.number for child in (founding, seal, housing_fund))
    assert list(Outbox.objects.values_list("application_id", flat=True)) == [founding.pk]
    assert _route() == 1
    claim_and_decide(WorkflowTask.objects.get(application=founding).pk, clerk, "受理")
    _route()

    assert WorkflowTask.objects.filter(application__in=[seal, housing_fund]).count() == 0
    assert Outbox.objects.filter(application__in=[seal, housing_fund]).count() == 0
    seal.refresh_from_db()
    assert seal.status == Application.Status.SUBMITTED
    assert "uscc" not in seal.data


def test_the_approval_issues_a_credit_code_and_routes_each_waiting_child_once_to_its_department(
    bundle, items, citizen, clerk, police, other_department
):
    application = _submitted(citizen)
    founding, seal, housing_fund = _children(application)
    _route()

    _decide_open(founding, clerk)
    assert _route() == 2  # the promises the approval wrote for the waiting children

    founding.refresh_from_db()
    assert founding.status == Application.Status.COMPLETED
    uscc = founding.result["uscc"]
    assert is_valid_uscc(uscc)
    assert uscc.startswith("91" + founding.department.region.code[:6])
    assert founding.result["enterprise_name"] == "杭州新芽科技有限公司"
    tasks = WorkflowTask.objects.filter(application__in=[seal, housing_fund]).order_by("application_id")
    assert [(task.application_id, task.department_id) for task in tasks] == [
        (seal.pk, police.pk),
        (housing_fund.pk, other_department.pk),
    ]
    for child in (seal, housing_fund):
        child.refresh_from_db()
        assert child.status == Application.Status.ACCEPTED
        assert child.data["uscc"] == uscc
        assert child.data["enterprise_name"] == "杭州新芽科技有限公司"
        assert child.data["legal_representative"] == "王小明"
    assert seal.material_picks == {"business_license": {"by": "registry"}}
    # the applicant's bundle page names the new enterprise and its code
    page = logged_in(citizen).get(reverse("bundles:bundle", args=[application.public_id])).content.decode()
    assert "杭州新芽科技有限公司" in page
    assert uscc in page

    # the outbox delivers twice, and the hook runs again: nothing new
    routed = Outbox.objects.filter(application__in=[seal, housing_fund]).count()
    for outbox_id in Outbox.objects.values_list("pk", flat=True):
        Outbox.objects.filter(pk=outbox_id).update(processed_at=None)
        engine.outbox_process(outbox_id=outbox_id)
    bundle_application = BundleApplication.objects.get(pk=application.pk)
    order.dependants_settle(bundle_application, Application.objects.get(pk=founding.pk))
    assert Outbox.objects.filter(application__in=[seal, housing_fund]).count() == routed == 2
    assert WorkflowTask.objects.filter(application__in=[seal, housing_fund]).count() == 2
    assert Application.objects.get(pk=founding.pk).result["uscc"] == uscc


def test_the_bundle_completes_when_the_waiting_children_are_done(
    bundle, items, citizen, clerk, police_clerk, other_clerk
):
    application = _submitted(citizen)
    founding, seal, housing_fund = _children(application)
    _route()
    _decide_open(founding, clerk)
    _route()

    _decide_open(seal, police_clerk)
    assert BundleApplication.objects.get(pk=application.pk).status == BundleApplication.Status.SUBMITTED
    _decide_open(housing_fund, other_clerk)

    assert BundleApplication.objects.get(pk=application.pk).status == BundleApplication.Status.COMPLETED


@pytest.mark.parametrize("ending", ["not_accepted", "refused", "withdrawn"])
def test_when_the_first_ends_without_approval_the_waiting_children_are_withdrawn_with_a_reason(
    bundle, items, citizen, clerk, ending
):
    application = _submitted(citizen)
    founding, seal, housing_fund = _children(application)
    _route()

    if ending == "not_accepted":
        claim_and_decide(WorkflowTask.objects.get(application=founding).pk, clerk, "不予受理", opinion="名称不符合规定")
        _route()
    elif ending == "refused":
        _decide_open(founding, clerk, decide="不同意")
    else:
        submission.application_withdraw(application_id=founding.pk, user=citizen)

    for child in (seal, housing_fund):
        child.refresh_from_db()
        assert child.status == Application.Status.WITHDRAWN
        event = ApplicationEvent.objects.get(application=child, action=ApplicationEvent.Action.WITHDRAWN)
        assert event.note == "未转交办理部门：本事项须待公司设立登记核准后办理，该事项未获核准。"
        assert event.actor is None
    assert Outbox.objects.filter(application__in=[seal, housing_fund]).count() == 0
    assert WorkflowTask.objects.filter(application__in=[seal, housing_fund]).count() == 0
    assert Application.objects.get(pk=founding.pk).result == {}
    assert BundleApplication.objects.get(pk=application.pk).status == BundleApplication.Status.COMPLETED
    # the applicant reads why on the bundle's page
    page = logged_in(citizen).get(reverse("bundles:bundle", args=[application.public_id])).content.decode()
    assert page.count("未转交办理部门：本事项须待公司设立登记核准后办理，该事项未获核准。") == 2


# --- the pages ---------------------------------------------------------------------------------


def test_the_start_page_says_who_applies_and_what_waits(bundle, items, citizen):
    page = logged_in(citizen).get(reverse("bundles:start", args=["business-start"]))

    text = page.content.decode()
    assert page.status_code == 200
    assert "您以本人身份（新企业的法定代表人）申请" in text
    assert "公章刻制备案在公司设立登记核准后办理" in text
    assert "营业执照" not in text  # nor the licence the registration gives
    assert "单位名称" not in text  # nor the name it registers


def test_the_bundle_page_says_which_children_wait(bundle, items, citizen):
    application = _submitted(citizen)

    page = logged_in(citizen).get(reverse("bundles:bundle", args=[application.public_id]))

    assert page.content.decode().count("公司设立登记核准后转交办理部门") == 2
    founding, seal, _housing_fund = _children(application)
    for child, hints in ((seal, 1), (founding, 0)):
        own_page = logged_in(citizen).get(reverse("approvals:application", args=[child.number])).content.decode()
        assert own_page.count("公司设立登记核准后转交办理部门") == hints
