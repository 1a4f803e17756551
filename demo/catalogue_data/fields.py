"""Application form fields the demo items share, and the form they make.

``form(...)`` returns the two things an item stores: ``form_schema`` (JSON Schema
draft 2020-12, field titles in Chinese) and ``form_ui`` (steps, bilingual labels,
the widget, an optional prefill source, for selects bilingual option labels and,
for a field shown only after a certain answer, a ``show_when`` condition).

An address is an object: the 12-digit code of a county-level region and the
street address within it, so that routing can find the county's department.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

JsonObject = dict[str, Any]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# The steps a form's fields are grouped into: group → (zh, en). A form shows its
# steps in the order their first field appears in the item's field list.
GROUPS: dict[str, tuple[str, str]] = {
    "applicant": ("申请人信息", "Applicant"),
    "parties": ("当事人信息", "The parties"),
    "enterprise": ("单位信息", "Organisation"),
    "matter": ("申请事项", "What you apply for"),
    "contact": ("联系方式、送达与承诺", "Contact, delivery and declaration"),
}

_BASE_SCHEMA: dict[str, JsonObject] = {
    "text": {"type": "string", "minLength": 1, "maxLength": 100},
    "textarea": {"type": "string", "minLength": 1, "maxLength": 2000},
    "number": {"type": "number", "minimum": 0},
    "date": {"type": "string", "format": "date"},
    "select": {"type": "string"},
    "checkbox": {"type": "boolean"},
    "id_number": {"type": "string", "pattern": r"^[1-9]\d{16}[\dX]$"},
    "uscc": {"type": "string", "pattern": r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$"},
    "phone": {"type": "string", "pattern": r"^(1\d{10}|0\d{2,3}-?\d{7,8})$"},
    "multiselect": {"type": "array", "items": {"type": "string"}, "uniqueItems": True, "minItems": 1},
    "address": {
        "type": "object",
        "properties": {
            "region": {"type": "string", "pattern": r"^\d{12}$"},
            "detail": {"type": "string", "minLength": 2, "maxLength": 200},
        },
        "required": ["region", "detail"],
        "additionalProperties": False,
    },
    "file": {"type": "string", "minLength": 1},
    "repeat": {"type": "array", "minItems": 1},
}


@dataclass(frozen=True)
class Field:
    code: str
    zh: str
    en: str
    widget: str
    group: str
    source: str = ""
    options: tuple[tuple[str, str, str], ...] = ()  # (value, zh, en)
    schema: tuple[tuple[str, Any], ...] = ()  # extra JSON Schema keywords
    item_fields: tuple[Field, ...] = ()  # the columns of a repeat

    def json_schema(self) -> JsonObject:
        result: JsonObject = {**copy.deepcopy(_BASE_SCHEMA[self.widget]), "title": self.zh, **dict(self.schema)}
        if "exclusiveMinimum" in result:  # "greater than" replaces the base "at least", one message for one bound
            result.pop("minimum", None)
        if self.options and self.widget == "multiselect":
            result["items"] = {"type": "string", "enum": [value for value, _zh, _en in self.options]}
        elif self.options:
            result["enum"] = [value for value, _zh, _en in self.options]
        if self.item_fields:
            result["items"] = {
                "type": "object",
                "properties": {column.code: column.json_schema() for column in self.item_fields},
                "required": [column.code for column in self.item_fields],
                "additionalProperties": False,
            }
        return result

    def ui(self) -> JsonObject:
        result: JsonObject = {"label": {"zh": self.zh, "en": self.en}, "widget": self.widget}
        if self.source:
            result["source"] = self.source
        if self.options:
            result["options"] = [{"value": value, "label": {"zh": zh, "en": en}} for value, zh, en in self.options]
        if self.item_fields:
            result["item_fields"] = {column.code: column.ui() for column in self.item_fields}
        return result


def _field(
    code: str,
    zh: str,
    en: str,
    widget: str,
    group: str,
    *,
    source: str = "",
    options: tuple[tuple[str, str, str], ...] = (),
    item_fields: tuple[Field, ...] = (),
    **schema: Any,
) -> Field:
    return Field(code, zh, en, widget, group, source, options, tuple(schema.items()), item_fields)


_SEX = (("male", "男", "Male"), ("female", "女", "Female"))
_POPULATION = "registry:population"
_TODAY = "today"  # a date bound of services.form_keywords: the day the answer is checked
_LEGAL_PERSON = "registry:legal_person"
_ACCOUNT_PHONE = "account:phone"  # the applicant's own number, proven by SMS

_ALL_FIELDS = (
    # The applicant, prefilled from the population registry where it knows the answer.
    _field("applicant_name", "申请人姓名", "Applicant's name", "text", "applicant", source=f"{_POPULATION}.name"),
    _field(
        "applicant_id_number", "公民身份号码", "ID number", "id_number", "applicant", source=f"{_POPULATION}.id_number"
    ),
    _field("gender", "性别", "Sex", "select", "applicant", source=f"{_POPULATION}.gender", options=_SEX),
    _field(
        "birth_date",
        "出生日期",
        "Date of birth",
        "date",
        "applicant",
        source=f"{_POPULATION}.birth_date",
        maxDate=_TODAY,
    ),
    _field("phone", "联系电话", "Phone number", "phone", "contact", source=_ACCOUNT_PHONE),
    _field(
        "household_address",
        "户籍地址",
        "Registered household address",
        "address",
        "applicant",
        source=f"{_POPULATION}.household_address",
    ),
    _field("residence_address", "现居住地址", "Current address", "address", "applicant"),
    _field("employer_name", "工作单位", "Employer", "text", "applicant"),
    # Two parties (marriage, divorce).
    # The applicant's own name and number are filled in on the side of their sex; the other party's they give.
    _field("male_name", "男方姓名", "Man's name", "text", "parties", source=f"{_POPULATION}.male.name"),
    _field(
        "male_id_number",
        "男方公民身份号码",
        "Man's ID number",
        "id_number",
        "parties",
        source=f"{_POPULATION}.male.id_number",
    ),
    _field("female_name", "女方姓名", "Woman's name", "text", "parties", source=f"{_POPULATION}.female.name"),
    _field(
        "female_id_number",
        "女方公民身份号码",
        "Woman's ID number",
        "id_number",
        "parties",
        source=f"{_POPULATION}.female.id_number",
    ),
    _field("father_name", "父亲姓名", "Father's name", "text", "parties"),
    _field("father_id_number", "父亲公民身份号码", "Father's ID number", "id_number", "parties"),
    _field("mother_name", "母亲姓名", "Mother's name", "text", "parties"),
    _field("mother_id_number", "母亲公民身份号码", "Mother's ID number", "id_number", "parties"),
    _field("opponent", "对方当事人", "The other party", "text", "parties"),
    # An organisation, prefilled from the legal person registry.
    _field(
        "enterprise_name", "单位名称", "Name of the organisation", "text", "enterprise", source=f"{_LEGAL_PERSON}.name"
    ),
    _field(
        "uscc", "统一社会信用代码", "Unified social credit code", "uscc", "enterprise", source=f"{_LEGAL_PERSON}.uscc"
    ),
    _field(
        "legal_representative",
        "法定代表人",
        "Legal representative",
        "text",
        "enterprise",
        source=f"{_LEGAL_PERSON}.legal_representative",
    ),
    _field(
        "legal_rep_id_number", "法定代表人公民身份号码", "Legal representative's ID number", "id_number", "enterprise"
    ),
    _field("contact_name", "经办人姓名", "Agent's name", "text", "enterprise", source=f"{_POPULATION}.name"),
    _field("contact_phone", "经办人联系电话", "Agent's phone number", "phone", "enterprise", source=_ACCOUNT_PHONE),
    _field(
        "business_address",
        "住所（经营场所）",
        "Registered address",
        "address",
        "enterprise",
        source=f"{_LEGAL_PERSON}.address",
    ),
    _field("operator_name", "经营者姓名", "Operator's name", "text", "applicant", source=f"{_POPULATION}.name"),
    _field(
        "operator_id_number",
        "经营者公民身份号码",
        "Operator's ID number",
        "id_number",
        "applicant",
        source=f"{_POPULATION}.id_number",
    ),
    # What is applied for.
    _field("proposed_name", "拟设立名称", "Proposed name", "text", "matter"),
    _field(
        "company_type",
        "公司类型",
        "Type of company",
        "select",
        "matter",
        options=(
            ("llc", "有限责任公司", "Limited liability company"),
            ("one_person_llc", "有限责任公司（自然人独资）", "Limited liability company, one natural person"),
            ("joint_stock", "股份有限公司", "Company limited by shares"),
        ),
    ),
    _field(
        "registered_capital",
        "注册资本（万元）",
        "Registered capital (10,000 yuan)",
        "number",
        "matter",
        exclusiveMinimum=0,
    ),
    _field("business_scope", "经营范围", "Business scope", "textarea", "matter"),
    _field(
        "shareholders",
        "股东（发起人）",
        "Shareholders",
        "repeat",
        "matter",
        item_fields=(
            _field("name", "股东名称或姓名", "Name", "text", "matter"),
            _field("certificate_number", "证件号码", "ID number or credit code", "text", "matter"),
            _field(
                "contribution",
                "认缴出资额（万元）",
                "Subscribed capital (10,000 yuan)",
                "number",
                "matter",
                exclusiveMinimum=0,
            ),
        ),
    ),
    _field("trade_name", "个体工商户名称（字号）", "Trade name", "text", "matter"),
    _field("operating_area", "经营场所面积（平方米）", "Floor area (m²)", "number", "matter", exclusiveMinimum=0),
    _field("employee_count", "从业人员人数", "Number of staff", "number", "matter", type="integer"),
    _field(
        "food_category",
        "主体业态",
        "Kind of food business",
        "select",
        "matter",
        options=(
            ("retail", "食品销售经营者", "Food retailer"),
            ("catering", "餐饮服务经营者", "Catering"),
            ("canteen", "单位食堂", "Canteen"),
        ),
    ),
    _field("food_products", "申请生产的食品类别及品种明细", "Foods to be produced", "textarea", "matter"),
    _field("products", "申请取证的产品单元及名称", "Products to be licensed", "textarea", "matter"),
    _field("license_number", "原证件编号", "Number of the current licence or certificate", "text", "matter"),
    # A visit to a hall: not in the past, on a day the hall is open, within the two months bookable.
    _field(
        "appointment_date",
        "预约办理日期",
        "Appointment date",
        "date",
        "matter",
        minDate=_TODAY,
        maxDate="today+60",
        workingDay=True,
    ),
    _field(
        "marriage_declaration",
        "本人无配偶，与对方没有直系血亲和三代以内旁系血亲关系",
        "I have no spouse and am not closely related to the other party",
        "checkbox",
        "matter",
        const=True,
    ),
    _field(
        "divorce_agreement",
        "双方已自愿签订离婚协议，对子女抚养、财产及债务处理协商一致",
        "We have both signed a divorce agreement on children, property and debts",
        "checkbox",
        "matter",
        const=True,
    ),
    _field("marriage_date", "结婚登记日期", "Date of the marriage registration", "date", "matter", maxDate=_TODAY),
    _field("baby_name", "新生儿姓名", "Baby's name", "text", "matter"),
    _field("baby_gender", "新生儿性别", "Baby's sex", "select", "matter", options=_SEX),
    _field("baby_birth_date", "新生儿出生日期", "Baby's date of birth", "date", "matter", maxDate=_TODAY),
    _field("birth_hospital", "出生医院", "Hospital of birth", "text", "matter"),
    _field(
        "birth_certificate_number",
        "出生医学证明编号",
        "Number of the medical birth certificate",
        "text",
        "matter",
        pattern=r"^[A-Z]\d{9}$",
    ),
    _field(
        "id_card_reason",
        "换领原因",
        "Why a new card",
        "select",
        "matter",
        options=(
            ("expired", "有效期满", "The card expires"),
            ("damaged", "证件损坏", "The card is damaged"),
            ("changed", "登记项目变更", "Registered details changed"),
        ),
    ),
    _field("loss_description", "遗失情况说明", "How the document was lost", "textarea", "matter"),
    _field(
        "move_type",
        "迁入类型",
        "Reason for moving the household registration",
        "select",
        "matter",
        options=(
            ("talent", "人才落户", "Graduates and skilled workers"),
            ("family", "投靠亲属", "Joining family"),
            ("home", "购房落户", "Owning a home"),
            ("employment", "稳定就业落户", "Stable employment"),
        ),
    ),
    _field("move_from", "迁出地址", "Moving from", "address", "matter"),
    _field("move_to", "迁入地址", "Moving to", "address", "matter"),
    _field(
        "family_members",
        "随迁人员",
        "Family members moving too",
        "repeat",
        "matter",
        item_fields=(
            _field("name", "姓名", "Name", "text", "matter"),
            _field("id_number", "公民身份号码", "ID number", "id_number", "matter"),
            _field("relation", "与申请人关系", "Relation to the applicant", "text", "matter"),
        ),
    ),
    _field(
        "travel_purpose",
        "出境事由",
        "Purpose of travel",
        "select",
        "matter",
        options=(
            ("tourism", "旅游", "Tourism"),
            ("family", "探亲访友", "Visiting family or friends"),
            ("business", "商务", "Business"),
            ("study", "学习", "Study"),
        ),
    ),
    _field(
        "endorsement",
        "签注种类",
        "Kind of endorsement",
        "select",
        "matter",
        options=(
            ("tourism_once", "团队旅游一次", "Group tour, one trip"),
            ("individual_once", "个人旅游一次", "Individual travel, one trip"),
            ("family_once", "探亲一次", "Family visit, one trip"),
            ("business_once", "商务一次", "Business, one trip"),
        ),
    ),
    _field(
        "driving_license_number", "驾驶证档案编号", "Driving licence file number", "text", "matter", pattern=r"^\d{12}$"
    ),
    _field(
        "vehicle_plate",
        "号牌号码",
        "Registration plate",
        "text",
        "matter",
        pattern=r"^[\u4e00-\u9fa5][A-Z][A-Z0-9]{5,6}$",
    ),
    _field("vehicle_count", "车辆数（辆）", "Number of vehicles", "number", "matter", type="integer", minimum=1),
    _field(
        "freight_scope",
        "经营范围",
        "Kind of haulage",
        "multiselect",
        "matter",
        options=(
            ("general", "道路普通货物运输", "General freight"),
            ("container", "货物专用运输（集装箱）", "Containers"),
            ("large", "大型物件运输", "Oversized loads"),
        ),
    ),
    _field("route", "通行路线", "Route", "textarea", "matter"),
    _field("travel_dates", "通行期间", "Travel dates", "text", "matter"),
    _field(
        "insurance_type",
        "参保险种",
        "Insurance scheme",
        "select",
        "matter",
        options=(
            ("employee", "职工基本医疗保险", "Employees' basic medical insurance"),
            ("resident", "城乡居民基本医疗保险", "Residents' basic medical insurance"),
        ),
    ),
    _field(
        "retirement_type",
        "退休类别",
        "Kind of retirement",
        "select",
        "matter",
        options=(
            ("normal", "正常退休", "At the statutory age"),
            ("illness", "因病提前退休", "Early, on medical grounds"),
            ("special_job", "特殊工种提前退休", "Early, arduous or hazardous work"),
            ("flexible", "弹性提前退休", "Flexible early retirement"),
        ),
    ),
    _field("work_start_date", "参加工作时间", "Date you started work", "date", "matter", maxDate=_TODAY),
    _field("pension_start", "待遇领取开始月份", "First month of pension", "text", "matter", pattern=r"^\d{4}-\d{2}$"),
    _field(
        "bank_account",
        "社会保障卡银行账号",
        "Bank account of the social security card",
        "text",
        "matter",
        pattern=r"^\d{12,19}$",
    ),
    _field(
        "filing_type",
        "备案类型",
        "Kind of registration",
        "select",
        "matter",
        options=(
            ("resettled", "异地长期居住", "Living in another place"),
            ("temporary", "临时外出就医", "Treatment while travelling"),
            ("referral", "转诊转院", "Referred to a hospital elsewhere"),
        ),
    ),
    _field("treatment_place", "就医地（省、市）", "Where you are treated", "text", "matter"),
    _field("start_date", "开始日期", "Start date", "date", "matter"),
    _field("medical_total", "医疗费用总额（元）", "Medical costs (yuan)", "number", "matter", exclusiveMinimum=0),
    _field("hospital", "就诊医疗机构", "Hospital", "text", "matter"),
    _field("disease", "病种名称", "Condition", "text", "matter"),
    _field("unemployment_date", "失业日期", "Date you became unemployed", "date", "matter", maxDate=_TODAY),
    _field("last_employer", "原工作单位", "Last employer", "text", "matter"),
    _field(
        "household_size",
        "共同生活家庭成员人数",
        "People in the household",
        "number",
        "matter",
        type="integer",
        minimum=1,
    ),
    _field("household_income", "家庭月收入合计（元）", "Household income per month (yuan)", "number", "matter"),
    _field("hardship", "申请理由", "Why you apply", "textarea", "matter"),
    _field(
        "disability_level",
        "残疾等级",
        "Degree of disability",
        "select",
        "matter",
        options=(
            ("1", "一级", "Grade 1"),
            ("2", "二级", "Grade 2"),
            ("3", "三级", "Grade 3"),
            ("4", "四级", "Grade 4"),
        ),
    ),
    _field("disability_number", "残疾人证号", "Disability certificate number", "text", "matter"),
    _field("adoptee_name", "被收养人姓名", "Name of the child", "text", "matter"),
    _field("adoptee_birth_date", "被收养人出生日期", "Child's date of birth", "date", "matter", maxDate=_TODAY),
    _field(
        "fund_account", "住房公积金个人账号", "Housing fund account number", "text", "matter", pattern=r"^\d{8,20}$"
    ),
    _field("withdraw_amount", "提取金额（元）", "Amount to withdraw (yuan)", "number", "matter", exclusiveMinimum=0),
    _field("loan_amount", "申请贷款金额（万元）", "Loan amount (10,000 yuan)", "number", "matter", exclusiveMinimum=0),
    _field(
        "loan_years", "贷款年限（年）", "Loan term (years)", "number", "matter", type="integer", minimum=1, maximum=30
    ),
    _field("property_address", "不动产坐落", "Address of the property", "address", "matter"),
    _field("property_certificate_number", "不动产权证书号", "Property certificate number", "text", "matter"),
    _field(
        "transfer_reason",
        "转移原因",
        "Why the property changes hands",
        "select",
        "matter",
        options=(("sale", "买卖", "Sale"), ("gift", "赠与", "Gift"), ("inheritance", "继承", "Inheritance")),
    ),
    _field("transaction_price", "成交价格（元）", "Price (yuan)", "number", "matter", exclusiveMinimum=0),
    _field("floor_area", "建筑面积（平方米）", "Floor area (m²)", "number", "matter", exclusiveMinimum=0),
    _field("project_name", "项目名称", "Project name", "text", "matter"),
    _field(
        "project_code",
        "投资项目代码",
        "Investment project code",
        "text",
        "matter",
        pattern=r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$",
    ),
    _field("project_address", "建设地点", "Site", "address", "matter"),
    _field("land_area", "用地面积（平方米）", "Site area (m²)", "number", "matter", exclusiveMinimum=0),
    _field("building_area", "总建筑面积（平方米）", "Total floor area (m²)", "number", "matter", exclusiveMinimum=0),
    _field(
        "contract_price", "合同价格（万元）", "Contract price (10,000 yuan)", "number", "matter", exclusiveMinimum=0
    ),
    _field("contractor", "施工单位", "Contractor", "text", "matter"),
    _field("design_drawings", "设计方案图纸", "Design drawings", "file", "matter"),
    _field("student_name", "学生姓名", "Pupil's name", "text", "matter"),
    _field("student_id_number", "学生公民身份号码", "Pupil's ID number", "id_number", "matter"),
    _field("school_name", "学校名称", "School", "text", "matter"),
    _field("current_school", "现就读学校", "Current school", "text", "matter"),
    _field(
        "teacher_level",
        "资格种类",
        "Kind of teacher's qualification",
        "select",
        "matter",
        options=(
            ("kindergarten", "幼儿园教师资格", "Kindergarten"),
            ("primary", "小学教师资格", "Primary school"),
            ("junior", "初级中学教师资格", "Junior secondary school"),
            ("senior", "高级中学教师资格", "Senior secondary school"),
            ("vocational", "中等职业学校教师资格", "Secondary vocational school"),
        ),
    ),
    _field("subject", "任教学科", "Subject", "text", "matter"),
    _field("institution_name", "拟执业机构", "Where you will practise", "text", "matter"),
    _field(
        "practice_category",
        "执业类别",
        "Field of practice",
        "select",
        "matter",
        options=(
            ("clinical", "临床", "Clinical"),
            ("tcm", "中医", "Traditional Chinese medicine"),
            ("dental", "口腔", "Dental"),
            ("public_health", "公共卫生", "Public health"),
        ),
    ),
    _field("qualification_number", "资格证书编号", "Qualification certificate number", "text", "matter"),
    _field("organisation_name", "拟设立机构名称", "Name of the new organisation", "text", "matter"),
    _field("bed_count", "核定床位（张）", "Beds", "number", "matter", type="integer", minimum=1),
    _field("pollutants", "主要污染物及排放方式", "Main pollutants and how they are discharged", "textarea", "matter"),
    _field("chemicals", "经营（生产）的危险化学品品种", "Hazardous chemicals handled", "textarea", "matter"),
    _field("storage_address", "储存设施地址", "Storage site", "address", "matter"),
    _field("performance_name", "演出名称", "Title of the performance", "text", "matter"),
    _field("performance_date", "演出日期", "Date of the performance", "date", "matter", minDate=_TODAY),
    _field("venue", "演出场所", "Venue", "text", "matter"),
    _field("crop", "作物种类", "Crop", "text", "matter"),
    _field(
        "homestead_area",
        "申请宅基地面积（平方米）",
        "Homestead plot area (m²)",
        "number",
        "matter",
        exclusiveMinimum=0,
        maximum=140,
    ),
    _field("village", "所在村（社区）", "Village", "text", "matter"),
    _field("patent_number", "专利号", "Patent number", "text", "matter", pattern=r"^ZL\d{12}\.[\dX]$"),
    _field("case_summary", "事实与理由", "Facts and reasons", "textarea", "matter"),
    _field(
        "requested_information", "所需政府信息的名称、文号或描述", "The information you ask for", "textarea", "matter"
    ),
    _field(
        "deferral_amount", "申请延期缴纳税款金额（元）", "Tax to defer (yuan)", "number", "matter", exclusiveMinimum=0
    ),
    _field(
        "deferral_months",
        "申请延期期限（月）",
        "Months to defer",
        "number",
        "matter",
        type="integer",
        minimum=1,
        maximum=3,
    ),
    _field("tax_year", "汇算年度", "Tax year", "number", "matter", type="integer", minimum=2019),
    _field("refund_amount", "应退（补）税额（元）", "Tax refund or payment due (yuan)", "number", "matter"),
    _field("reason", "申请事由", "Why you apply", "textarea", "matter"),
    # Delivery and the declaration every form ends with.
    _field(
        "delivery",
        "结果领取方式",
        "How you receive the result",
        "select",
        "contact",
        options=(
            ("electronic", "电子证照（浙里办）", "Electronic certificate"),
            ("post", "邮寄送达（免费）", "By post, free of charge"),
            ("counter", "窗口领取", "Collect at the counter"),
        ),
    ),
    _field("postal_address", "邮寄地址", "Postal address", "address", "contact"),
    _field(
        "declaration",
        "本人（单位）承诺所填信息和所交材料真实、有效，如有虚假愿承担法律责任",
        "I declare that the information and documents given are true and complete",
        "checkbox",
        "contact",
        const=True,
    ),
)
FIELDS: dict[str, Field] = {each.code: each for each in _ALL_FIELDS}


def form(title: str, codes: tuple[str, ...], optional: tuple[str, ...] = ()) -> tuple[JsonObject, JsonObject]:
    """The form_schema and form_ui of an application form made of the fields ``codes``."""
    if not codes:
        return {}, {}
    unknown = [code for code in (*codes, *optional) if code not in FIELDS]
    if unknown:
        raise ValueError(f"form {title!r}: unknown fields {unknown}")
    chosen = [FIELDS[code] for code in codes]
    schema: JsonObject = {
        "$schema": SCHEMA_DIALECT,
        "title": title,
        "type": "object",
        "properties": {each.code: each.json_schema() for each in chosen},
        "required": [each.code for each in chosen if each.code not in optional],
        "additionalProperties": False,
    }
    groups = list(dict.fromkeys(each.group for each in chosen))
    steps = [
        {
            "title": {"zh": GROUPS[group][0], "en": GROUPS[group][1]},
            "fields": [each.code for each in chosen if each.group == group],
        }
        for group in groups
    ]
    ui: JsonObject = {"steps": steps, "fields": {each.code: each.ui() for each in chosen}}
    if "delivery" in codes and "postal_address" in codes:
        # The postal address is needed, and shown, only when the result goes by post.
        schema["required"] = [code for code in schema["required"] if code != "postal_address"]
        schema["if"] = {"properties": {"delivery": {"const": "post"}}, "required": ["delivery"]}
        schema["then"] = {"required": ["postal_address"]}
        ui["fields"]["postal_address"]["show_when"] = {"field": "delivery", "equals": "post"}
    return schema, ui
