"""Building blocks the demo items are written with: the item record, materials, fees and workflows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from demo.catalogue_data.departments import department_uscc
from services.models import DayUnit, HandlingType, OnlineDepth, RequiredRealNameLevel, Scope, Section

JsonObject = dict[str, Any]

PROVINCE = "province"
CITY = "city"
COUNTY = "county"
LEVELS = (PROVINCE, CITY, COUNTY)

# Where an item is implemented: only in the main demo region of its level
# (浙江省, 杭州市 or 杭州市西湖区), or by every demo department of its kind at its level.
MAIN = "main"
EVERYWHERE = "everywhere"

PERSON = ("1",)
ENTERPRISE = ("2",)
PERSON_AND_ENTERPRISE = ("1", "2")
ORGANISATIONS = ("2", "3", "4")
BUILDERS = ("2", "3", "5")

HOURS = "周一至周五 上午9:00—12:00，下午13:30—17:00（法定节假日除外）"
HOURS_WITH_SATURDAY = "周一至周五 上午9:00—12:00，下午13:30—17:00；周六上午9:00—12:00（法定节假日除外）"


# --- Materials (MATERIALS_SCHEMA in services/validation.py) ---

# code: (name, form, source)
_MATERIALS: dict[str, tuple[str, str, str]] = {
    "id_card": ("居民身份证", "original", "certificate:resident_id_card"),
    "household_register": ("居民户口簿", "original", "certificate:household_register"),
    "household_record": ("户籍信息（公安户籍数据共享，免提交）", "electronic", "registry:population"),
    "marriage_certificate": ("结婚证", "original", "certificate:marriage_certificate"),
    "birth_medical_certificate": ("出生医学证明", "original", "certificate:birth_medical_certificate"),
    "business_license": ("营业执照", "original", "certificate:business_license"),
    "enterprise_record": ("企业登记信息（市场监管数据共享，免提交）", "electronic", "registry:legal_person"),
    "real_estate_certificate": ("不动产权证书", "original", "certificate:real_estate_certificate"),
    "social_security_card": ("社会保障卡", "original", "certificate:social_security_card"),
    "driving_license": ("机动车驾驶证", "original", "certificate:driving_license"),
    "residence_permit": ("浙江省居住证", "original", "certificate:residence_permit"),
    "graduation_certificate": ("毕业证书", "original", "certificate:graduation_certificate"),
    "disability_certificate": ("中华人民共和国残疾人证", "original", "certificate:disability_certificate"),
    "food_business_license": ("食品经营许可证", "original", "certificate:food_business_license"),
    "land_use_planning_permit": ("建设用地规划许可证", "original", "certificate:land_use_planning_permit"),
    "construction_planning_permit": ("建设工程规划许可证", "original", "certificate:construction_planning_permit"),
    "construction_permit": ("建筑工程施工许可证", "original", "certificate:construction_permit"),
    "health_certificate": ("从业人员健康证明", "original", "certificate:health_certificate"),
    "putonghua_certificate": ("普通话水平测试等级证书", "original", "certificate:putonghua_certificate"),
    "physician_qualification": ("医师资格证书", "original", "certificate:physician_qualification"),
    "photo": ("近期白底免冠彩色证件照片（电子版）", "electronic", "upload"),
    "site_proof": ("住所（经营场所）使用证明", "copy", "upload"),
    "power_of_attorney": ("授权委托书及受托人身份证件", "original", "upload"),
    "commitment_letter": ("告知承诺书", "original", "upload"),
    "site_plan": ("经营场所平面布局图", "electronic", "upload"),
    "bank_account": ("本人社会保障卡或银行账户信息", "copy", "upload"),
    "labour_contract": ("劳动合同", "copy", "upload"),
}


def material(
    code: str,
    name: str | None = None,
    *,
    form: str | None = None,
    source: str | None = None,
    copies: int = 1,
    required: bool = True,
    notes: str = "",
    at_counter: bool = False,
) -> JsonObject:
    """One entry of an item's materials; ``code`` names a common material or a new one (give its name)."""
    known_name, known_form, known_source = _MATERIALS.get(code, ("", "original", "upload"))
    entry: JsonObject = {
        "code": code,
        "name": name or known_name,
        "required": required,
        "form": form or known_form,
        "copies": copies,
        "source": source or known_source,
    }
    if not entry["name"]:
        raise ValueError(f"material {code!r} is not a common one: give its name")
    if notes:
        entry["notes"] = notes
    if at_counter:  # shown or signed in front of the clerk at the visit, never uploaded online
        entry["at_counter"] = True
    return entry


def application_form(name: str) -> JsonObject:
    return material("application_form", name, form="original", source="upload")


def proxy() -> JsonObject:
    return material("power_of_attorney", required=False, notes="委托他人代为办理的提供")


# --- Fees (FEES_SCHEMA) ---


def fee(
    code: str,
    name: str,
    standard: str,
    amount_fen: int,
    *,
    legal_basis: str = "",
    per: str = "件",
    reducible: bool = False,
) -> JsonObject:
    entry: JsonObject = {"code": code, "name": name, "standard": standard, "amount_fen": amount_fen, "per": per}
    if legal_basis:
        entry["legal_basis"] = legal_basis
    if reducible:
        entry["reducible"] = True
    return entry


# --- Workflows ---
# A workflow is an ordered list of stages; a stage's tasks run in parallel and join
# when all of them are decided. A task names its department by rule, resolved at
# routing time: the implementing department, the department of a kind at a level of
# the applicant's region, or a fixed department by its credit code. ``share`` is the
# task's part of the promised time limit, relative to the other stages.

IMPLEMENTING: JsonObject = {"rule": "implementing"}
ACCEPT_RESULTS = ("受理", "不予受理", "补齐补正")
REVIEW_RESULTS = ("同意", "不同意", "退回")
DECIDE_RESULTS = ("同意", "不同意")


def by_kind(kind: str, level: str) -> JsonObject:
    """The department of ``kind`` at ``level`` (county, city, province) of the applicant's region."""
    return {"rule": "kind", "kind": str(kind), "level": level}


def fixed(region_code: str, kind: str) -> JsonObject:
    """One named demo department."""
    return {"rule": "fixed", "uscc": department_uscc(region_code, kind)}


def task(
    key: str,
    name: str,
    department: JsonObject = IMPLEMENTING,
    results: tuple[str, ...] = REVIEW_RESULTS,
    share: int = 1,
) -> JsonObject:
    return {"key": key, "name": name, "department": dict(department), "results": list(results), "share": share}


def stage(key: str, *tasks: JsonObject, join: str = "all") -> JsonObject:
    return {"key": key, "join": join, "tasks": list(tasks)}


def workflow(*stages: JsonObject, instant: bool = False, trust_first: bool = False) -> JsonObject:
    result: JsonObject = {"stages": list(stages), "instant": instant}
    if trust_first:
        result["trust_first"] = True
    return result


def accept_stage() -> JsonObject:
    return stage("accept", task("accept", "受理", results=ACCEPT_RESULTS))


def standard(review: str = "审查", decide: str = "决定", *, trust_first: bool = False) -> JsonObject:
    """受理 → 审查 → 决定, all in the implementing department."""
    return workflow(
        accept_stage(),
        stage("review", task("review", review, share=2)),
        stage("decide", task("decide", decide, results=DECIDE_RESULTS)),
        trust_first=trust_first,
    )


def two_step(decide: str = "审核", *, trust_first: bool = False) -> JsonObject:
    """受理 → 审核决定, in the implementing department."""
    return workflow(
        accept_stage(),
        stage("decide", task("decide", decide, results=DECIDE_RESULTS, share=2)),
        trust_first=trust_first,
    )


def one_step(name: str) -> JsonObject:
    """One task in the implementing department, accepted when it reaches the department (承诺件 done in a day)."""
    return workflow(stage("handle", task("handle", name, results=DECIDE_RESULTS)))


def instant(name: str = "受理并办结") -> JsonObject:
    """即办件 with no visit: accepted and decided at once, by the machine, on submission."""
    return workflow(stage("handle", task("handle", name, results=DECIDE_RESULTS)), instant=True)


def at_visit(name: str = "当场办结") -> JsonObject:
    """即办件 that needs a visit: accepted online, decided on the spot by the clerk who sees the applicant."""
    return workflow(stage("handle", task("handle", name, results=DECIDE_RESULTS)))


def couple(flow: JsonObject, *, check: str) -> JsonObject:
    """``flow`` for an application of a man and a woman together (婚姻登记): each party confirms, and the
    population registry is checked for both (``check``: "marriage" or "divorce") before it is routed."""
    return {
        **flow,
        "parties": [
            {"role": "male", "name": "male_name", "id_number": "male_id_number"},
            {"role": "female", "name": "female_name", "id_number": "female_id_number"},
        ],
        "party_check": check,
    }


def parallel(*reviews: JsonObject, decide: str = "决定") -> JsonObject:
    """受理 → several departments review side by side (并联审批) → the implementing department decides."""
    return workflow(
        accept_stage(),
        stage("joint_review", *reviews),
        stage("decide", task("decide", decide, results=DECIDE_RESULTS)),
    )


def no_workflow() -> JsonObject:
    """Powers exercised by the department on its own initiative (处罚, 强制, 检查): nobody applies."""
    return {}


# --- The item record ---


@dataclass(frozen=True)
class ItemSpec:
    """One entry of the catalogue, as the demo writes it; ``demo.catalogue`` turns it into rows."""

    name: str
    kind: str  # DepartmentKind of the implementing department
    level: str  # province | city | county
    serial: int  # makes the basic code: unique within the kind, never reused
    item_type: str
    parties: tuple[str, ...]
    summary: str
    conditions: str
    legal_basis: str
    materials: tuple[JsonObject, ...] = ()
    aliases: str = ""
    themes: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    optional_fields: tuple[str, ...] = ()
    workflow: JsonObject = field(default_factory=standard)
    handling: str = HandlingType.COMMITTED
    legal_limit: int | None = 20
    promised_limit: int | None = 10
    limit_unit: str = DayUnit.WORKING
    visits: int = 0
    stars: int = 4
    depth: int = OnlineDepth.ONLINE_ACCEPTANCE
    # 高级实名 (a face check) where the applicant is paid out money: a stolen password must not draw a pension.
    real_name_level: int = RequiredRealNameLevel.BASIC
    scope: str = Scope.LOCAL
    section: str = Section.APPROVAL
    fees: tuple[JsonObject, ...] = ()
    faqs: tuple[tuple[str, str], ...] = ()
    process: tuple[tuple[str, str], ...] = ()  # empty: derived from the workflow
    where: str = MAIN
    also_in: tuple[str, ...] = ()  # further regions (any level) whose department of this kind implements it too
    location: str = ""  # empty: the department's service window
    hours: str = HOURS


_POWER_PROCESS = {
    "02": (
        ("立案", "发现涉嫌违法行为，符合立案条件的予以立案。"),
        ("调查取证", "两名以上执法人员出示执法证件，全面、客观、公正地调查取证。"),
        ("告知", "告知拟作出的处罚内容及事实、理由、依据，以及陈述、申辩和要求听证的权利。"),
        ("法制审核", "重大执法决定由法制机构审核。"),
        ("决定", "作出行政处罚决定并制作决定书。"),
        ("送达与执行", "七日内送达决定书；当事人依法履行，逾期不履行的依法强制执行。"),
    ),
    "03": (
        ("报批", "实施前向行政机关负责人报告并经批准；情况紧急的当场实施后二十四小时内补办。"),
        ("告知", "通知当事人到场，当场告知采取强制措施的理由、依据以及依法享有的权利和救济途径。"),
        ("实施", "制作现场笔录和查封、扣押清单，由当事人和执法人员签名或者盖章。"),
        ("处理", "查封、扣押期限不超过三十日，情况复杂的经批准可延长三十日；查清事实后依法作出处理决定。"),
    ),
    "06": (
        ("制定计划", "按照“双随机、一公开”要求随机抽取检查对象、随机选派执法检查人员。"),
        ("实施检查", "出示执法证件，依法开展现场检查，制作检查记录。"),
        ("处理", "发现问题的责令改正；涉嫌违法的依法立案查处。"),
        ("公开结果", "检查结果通过国家企业信用信息公示系统（浙江）和部门网站公开。"),
    ),
}


def power(
    name: str,
    kind: str,
    level: str,
    serial: int,
    item_type: str,
    parties: tuple[str, ...],
    summary: str,
    legal_basis: str,
) -> ItemSpec:
    """A power the department exercises on its own initiative: published for transparency, not applied for."""
    is_inspection = item_type == "06"
    return ItemSpec(
        name=name,
        kind=kind,
        level=level,
        serial=serial,
        item_type=item_type,
        parties=parties,
        summary=summary,
        conditions="由行政机关依职权实施，无需申请。",
        legal_basis=legal_basis,
        workflow=no_workflow(),
        handling=HandlingType.IMMEDIATE if is_inspection else HandlingType.COMMITTED,
        legal_limit=None if is_inspection else 90,
        promised_limit=None if is_inspection else 90,
        limit_unit=DayUnit.CALENDAR,
        stars=1,
        depth=OnlineDepth.GUIDE_ONLY,
        section=Section.TRANSPARENCY,
        process=_POWER_PROCESS[item_type],
    )


# The steps people read in the guide, for the stage keys the workflows above use.
_STAGE_TEXT = {
    "accept": "材料齐全、符合法定形式的予以受理；材料不全的一次性告知需要补正的全部内容。",
    "review": "对申请材料进行审查，需要核实的进行现场核查。",
    "joint_review": "相关部门同步并联审查，在承诺时限内出具意见。",
    "decide": "作出准予或者不予的决定；不予的书面说明理由并告知救济途径。",
    "handle": "材料齐全、符合条件的当场办结。",
}


def process_steps(spec: ItemSpec) -> list[JsonObject]:
    """The 办理流程 of the guide: what the spec says, or the workflow's stages between 申请 and 送达."""
    if spec.process:
        return [{"name": name, "description": description} for name, description in spec.process]
    stages = spec.workflow.get("stages", [])
    if not stages:
        return []
    steps = [{"name": "申请", "description": "通过浙里办、浙江政务服务网在线申请，或到办事窗口提交申请材料。"}]
    for each in stages:
        name = "、".join(task_["name"] for task_ in each["tasks"])
        steps.append({"name": name, "description": _STAGE_TEXT.get(each["key"], "")})
    steps.append({"name": "送达", "description": "结果通过电子证照、短信告知、邮寄或窗口领取送达。"})
    return steps
