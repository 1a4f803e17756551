"""Builders for 结婚登记 tests: the item as the demo has it, its people in the registry, and a submitted application."""

from __future__ import annotations

import datetime
from typing import Any

from accounts.models import User
from approvals.applications import actions, submission
from approvals.models import Application
from core.calendar import add_working_days
from datahub.models import HouseholdRelation, MaritalStatus
from demo.catalogue_data.fields import form
from demo.catalogue_data.parts import at_visit, couple
from demo.registry_data import CHEN_HAOYU, ZHAO_LI, PersonSpec
from services.models import Department, HandlingType, ServiceItem
from tests.approvals.builders import make_county
from tests.datahub.builders import make_person, resident_id
from tests.services.builders import make_department, make_item

MARRIAGE_FIELDS = (
    "male_name",
    "male_id_number",
    "female_name",
    "female_id_number",
    "appointment_date",
    "phone",
    "marriage_declaration",
)

# A young man of 21: under the legal age of marriage for a man (22).
YOUNG_MAN = PersonSpec(
    name="孙嘉豪",
    id_number=resident_id("330106", datetime.date.today().replace(year=datetime.date.today().year - 21), 55),
    household_number="010690077",
    relation=HouseholdRelation.HEAD,
    region_code="330106000000",
    address="浙江省杭州市西湖区文三路1号",
    marital_status=MaritalStatus.UNMARRIED,
)


def make_marriage_item(*, department: Department | None = None, **overrides: Any) -> ServiceItem:
    """结婚登记 as the demo publishes it: 即办, one visit, both parties confirm, the registrar decides at the visit."""
    make_county()
    schema, ui = form("结婚登记申请", MARRIAGE_FIELDS)
    fields: dict[str, Any] = {
        "name": "结婚登记",
        "item_type": "07",
        "form_schema": schema,
        "form_ui": ui,
        "materials": [],
        "min_real_name_level": 2,
        "handling_type": HandlingType.IMMEDIATE,
        "legal_limit": None,
        "promised_limit": None,
        "visits": 1,
        "star_level": 3,
        "online_depth": 3,
        "workflow": couple(at_visit("审查并登记"), check="marriage"),
    }
    fields.update(overrides)
    return make_item(department=department or make_department(), **fields)


def make_couple() -> None:
    """陈浩宇 and 赵丽 in the population registry, both unmarried."""
    make_person(CHEN_HAOYU)
    make_person(ZHAO_LI)


def marriage_answers(man: PersonSpec = CHEN_HAOYU, woman: PersonSpec = ZHAO_LI, **changes: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "male_name": man.name,
        "male_id_number": man.id_number,
        "female_name": woman.name,
        "female_id_number": woman.id_number,
        # A working day: the form refuses a weekend or a public holiday.
        "appointment_date": add_working_days(datetime.date.today(), 5).isoformat(),
        "phone": "13805748812",
        "marriage_declaration": True,
    }
    answers.update(changes)
    return answers


def marriage_draft(user: User, item: ServiceItem, **answers: Any) -> Application:
    application = actions.application_draft_start(user=user, service_code=item.implementation_code)
    actions.application_draft_update(application_id=application.pk, user=user, data=marriage_answers(**answers))
    return Application.objects.get(pk=application.pk)


def marriage_submitted(user: User, item: ServiceItem, **answers: Any) -> Application:
    application = marriage_draft(user, item, **answers)
    application, _response = submission.application_submit(application_id=application.pk, user=user)
    return application


DIVORCE_FIELDS = (
    "male_name",
    "male_id_number",
    "female_name",
    "female_id_number",
    "marriage_date",
    "phone",
    "divorce_agreement",
)


def make_divorce_item(**overrides: Any) -> ServiceItem:
    """离婚登记 as the demo publishes it: both spouses confirm, then 受理 → 冷静期 → 审查并登记 by clerks."""
    schema, ui = form("离婚登记申请", DIVORCE_FIELDS)
    flow = {
        "stages": [
            {
                "key": "accept",
                "tasks": [{"key": "accept", "name": "受理", "results": ["受理", "不予受理", "补齐补正"]}],
            },
            {"key": "decide", "tasks": [{"key": "decide", "name": "审查并登记", "results": ["同意", "不同意"]}]},
        ]
    }
    return make_marriage_item(
        name="离婚登记",
        form_schema=schema,
        form_ui=ui,
        workflow=couple(flow, check="divorce"),
        handling_type=HandlingType.COMMITTED,
        legal_limit=60,
        promised_limit=60,
        visits=2,
        basic_code="000207000002",
        **overrides,
    )


def divorce_answers(man: PersonSpec, woman: PersonSpec) -> dict[str, Any]:
    return {
        "male_name": man.name,
        "male_id_number": man.id_number,
        "female_name": woman.name,
        "female_id_number": woman.id_number,
        "marriage_date": "2015-10-01",
        "phone": "13712349050",
        "divorce_agreement": True,
    }
