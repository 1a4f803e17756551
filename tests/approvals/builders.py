"""Builders for application tests: a service one can apply for, files, and applications in each state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import StaffRole, User
from approvals.applications import actions, submission
from approvals.models import Application, WorkflowTask
from approvals.workbench import actions as workbench_actions
from approvals.workflow import ACCEPT, APPROVE, NOT_ACCEPT, REFUSE, RETURN, SUPPLEMENT
from demo.catalogue_data.fields import form
from services import actions as service_actions
from services.models import Department, DepartmentKind, Region, ServiceItem
from tests.factories import staff_member
from tests.services.builders import make_department, make_item, make_region

COUNTY_CODE = "330106000000"  # 西湖区, where 王小明's household is registered
FORM_FIELDS = (
    "applicant_name",
    "applicant_id_number",
    "gender",
    "household_address",
    "phone",
    "reason",
    "delivery",
    "postal_address",
    "declaration",
)
MATERIALS = [
    {
        "code": "household_record",
        "name": "户籍信息",
        "required": True,
        "form": "electronic",
        "source": "registry:population",
    },
    {"code": "photo", "name": "证件照片", "required": True, "form": "electronic", "source": "upload"},
    {"code": "proxy", "name": "授权委托书", "required": False, "form": "original", "source": "upload"},
]
# A minimal PDF: what a scanned document starts and ends with.
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


# 受理 → 审查 → 决定 in the implementing department, as most demo items do.
STANDARD_WORKFLOW = {
    "stages": [
        {
            "key": "accept",
            "join": "all",
            "tasks": [
                {
                    "key": "accept",
                    "name": "受理",
                    "department": {"rule": "implementing"},
                    "results": ["受理", "不予受理", "补齐补正"],
                    "share": 1,
                }
            ],
        },
        {
            "key": "review",
            "join": "all",
            "tasks": [
                {
                    "key": "review",
                    "name": "审查",
                    "department": {"rule": "implementing"},
                    "results": ["同意", "不同意", "退回"],
                    "share": 2,
                }
            ],
        },
        {
            "key": "decide",
            "join": "all",
            "tasks": [
                {
                    "key": "decide",
                    "name": "决定",
                    "department": {"rule": "implementing"},
                    "results": ["同意", "不同意"],
                    "share": 1,
                }
            ],
        },
    ],
    "instant": False,
}


def make_county() -> Region:
    make_region("330100000000")
    region, _created = Region.objects.get_or_create(
        code=COUNTY_CODE,
        defaults={"name": "西湖区", "level": 4, "parent": Region.objects.get(code="330100000000")},
    )
    return region


def make_applicable_item(*, department: Department | None = None, **overrides: Any) -> ServiceItem:
    """A published item for individuals with a real form (prefilled fields, a condition) and three materials."""
    make_county()
    schema, ui = form("测试申请表", FORM_FIELDS, optional=("postal_address",))
    fields: dict[str, Any] = {
        "name": "居住证明开具",
        "item_type": "20",
        "form_schema": schema,
        "form_ui": ui,
        "materials": MATERIALS,
        "min_real_name_level": 2,
        "workflow": STANDARD_WORKFLOW,
    }
    fields.update(overrides)
    return make_item(department=department or make_department(), **fields)


def pdf_upload(name: str = "scan.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def complete_answers() -> dict[str, Any]:
    """Answers the prefill does not give."""
    return {"phone": "13712349050", "reason": "办理入学手续需要。", "delivery": "electronic", "declaration": True}


def ready_draft(user: User, item: ServiceItem) -> Application:
    """A draft with every answer and material: it can be submitted."""
    application = actions.application_draft_start(user=user, service_code=item.implementation_code)
    actions.application_draft_update(application_id=application.pk, user=user, data=complete_answers())
    actions.attachment_add(application_id=application.pk, user=user, upload=pdf_upload(), material_code="photo")
    return Application.objects.get(pk=application.pk)


def submitted(user: User, item: ServiceItem) -> Application:
    application = ready_draft(user, item)
    application, _response = submission.application_submit(application_id=application.pk, user=user)
    return application


# --- Enterprises and versions -------------------------------------------------

ENTERPRISE_FORM_FIELDS = (
    "enterprise_name",
    "uscc",
    "legal_representative",
    "business_address",
    "contact_name",
    "contact_phone",
    "declaration",
)
ENTERPRISE_MATERIALS = [
    {
        "code": "business_licence",
        "name": "营业执照",
        "required": True,
        "form": "electronic",
        "source": "registry:legal_person",
    },
    {"code": "application_letter", "name": "申请书", "required": True, "form": "electronic", "source": "upload"},
]


def make_enterprise_item(*, department: Department, basic_code: str = "000120000002", **overrides: Any) -> ServiceItem:
    """A published item for enterprises (served party 2) whose form the legal person registry prefills."""
    schema, ui = form("单位申请表", ENTERPRISE_FORM_FIELDS)
    fields: dict[str, Any] = {
        "name": "单位证明开具",
        "basic_code": basic_code,
        "served_parties": ["2"],
        "form_schema": schema,
        "form_ui": ui,
        "materials": ENTERPRISE_MATERIALS,
    }
    fields.update(overrides)
    return make_applicable_item(department=department, **fields)


def publish_new_version(item: ServiceItem, *, editor: User, approver: User, changes: dict[str, Any]) -> ServiceItem:
    """The next version of the item through the catalogue's own flow, effective and published today.

    The editor drafts and sends it for review, a second person approves it; the
    version that was published is retired.
    """
    draft = service_actions.item_draft_start(implementation_code=item.implementation_code, actor=editor)
    service_actions.item_draft_update(
        item_id=draft.pk, actor=editor, changes={"effective_from": timezone.localdate(), **changes}
    )
    service_actions.item_submit_for_review(item_id=draft.pk, actor=editor)
    return service_actions.item_approve(item_id=draft.pk, actor=approver)


# --- Workflows and decisions ------------------------------------------------------


def workflow_task(
    key: str,
    *,
    name: str | None = None,
    department: Any = None,
    results: list[str] | None = None,
    share: Any = 1,
) -> dict[str, Any]:
    """One task of a stage as the catalogue stores it; by default the implementing department agrees or not."""
    return {
        "key": key,
        "name": name or key,
        "department": {"rule": "implementing"} if department is None else department,
        "results": ["同意", "不同意"] if results is None else results,
        "share": share,
    }


def workflow_stage(key: str, *tasks: dict[str, Any], join: Any = "all") -> dict[str, Any]:
    """One stage of a workflow: its tasks run side by side and join by ``join`` ("all", "quorum:2")."""
    return {"key": key, "join": join, "tasks": list(tasks)}


def claim_and_decide(task_id: int, clerk: User, result: str, opinion: str = "", **extra: Any) -> WorkflowTask:
    """A clerk takes a waiting task and decides it, as the workbench does."""
    workbench_actions.task_claim(task_id=task_id, clerk=clerk)
    return workbench_actions.task_decide(task_id=task_id, clerk=clerk, result=result, opinion=opinion, **extra)


# --- A parallel stage across departments of kinds at two levels (并联审批) -----------------------


@dataclass(frozen=True)
class JointDepartments:
    """公安 and 市场监管 of the applicant's county, 住房 of the city above it, and a clerk of each."""

    police: Department
    market: Department
    housing: Department
    clerks: dict[str, User]


def make_joint_departments() -> JointDepartments:
    """The departments the kind rules of ``joint_stage`` pick for 王小明 (西湖区), and decoys at the other level."""
    county, city = make_county(), make_region()
    police = make_department(
        serial=2, kind=DepartmentKind.PUBLIC_SECURITY, region=county, name="杭州市公安局西湖区分局"
    )
    market = make_department(serial=3, kind=DepartmentKind.MARKET_REGULATION, region=county, name="西湖区市场监管局")
    housing = make_department(serial=4, kind=DepartmentKind.HOUSING, region=city, name="杭州市住房保障和房产管理局")
    # The same kinds at the other level: the rules must not pick them.
    make_department(serial=5, kind=DepartmentKind.PUBLIC_SECURITY, region=city, name="杭州市公安局")
    make_department(serial=6, kind=DepartmentKind.HOUSING, region=county, name="西湖区住房和城乡建设局")
    clerks = {
        key: staff_member(f"{key}-clerk@example.com", each, StaffRole.CLERK)
        for key, each in (("police", police), ("market", market), ("housing", housing))
    }
    return JointDepartments(police=police, market=market, housing=housing, clerks=clerks)


def joint_stage(key: str = "joint", *, results: list[str] | None = None) -> dict[str, Any]:
    """公安 and 市场监管 of the county and 住房 of the city check side by side; all must agree."""
    allowed = [APPROVE, REFUSE, RETURN] if results is None else results
    return workflow_stage(
        key,
        workflow_task(
            "police", department={"rule": "kind", "kind": "public_security", "level": "county"}, results=allowed
        ),
        workflow_task(
            "market", department={"rule": "kind", "kind": "market_regulation", "level": "county"}, results=allowed
        ),
        workflow_task("housing", department={"rule": "kind", "kind": "housing", "level": "city"}, results=allowed),
    )


def three_stage_joint_workflow(*, joint_results: list[str] | None = None) -> dict[str, Any]:
    """受理 by the implementing department → ``joint_stage`` → 决定 by the implementing department (a share each)."""
    return {
        "stages": [
            workflow_stage("accept", workflow_task("accept", name="受理", results=[ACCEPT, NOT_ACCEPT, SUPPLEMENT])),
            joint_stage(results=joint_results),
            workflow_stage("decide", workflow_task("decide", name="决定")),
        ],
        "instant": False,
    }
