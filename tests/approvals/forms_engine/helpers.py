"""What the form engine tests share."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils import translation

from approvals import forms_engine
from approvals.forms_engine import FieldSpec, Step
from datahub.identity import resident_id_check_character
from demo.catalogue_data.fields import form
from tests.services.factories import uscc_for

XIHU = "330106000000"


HANGZHOU = "330100000000"


ID_NUMBER = "33010619900307123" + resident_id_check_character("33010619900307123")


WRONG_CHECK_ID_NUMBER = ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1")


USCC = uscc_for(XIHU, 7)


WRONG_CHECK_USCC = USCC[:17] + ("0" if USCC[17] != "0" else "1")


FIELDS = (
    "applicant_name",
    "applicant_id_number",
    "birth_date",
    "gender",
    "household_address",
    "uscc",
    "employee_count",
    "registered_capital",
    "business_scope",
    "shareholders",
    "family_members",
    "freight_scope",
    "loan_years",
    "vehicle_count",
    "design_drawings",
    "phone",
    "delivery",
    "postal_address",
    "declaration",
)


SCHEMA, UI = form("测试申请表", FIELDS, optional=("employee_count", "family_members"))


VALID = {
    "applicant_name": "王小明",
    "applicant_id_number": ID_NUMBER,
    "birth_date": "1990-03-07",
    "gender": "male",
    "household_address": {"region": XIHU, "detail": "文三路90号"},
    "uscc": USCC,
    "registered_capital": 50,
    "business_scope": "餐饮服务",
    "shareholders": [{"name": "张三", "certificate_number": USCC, "contribution": 50}],
    "freight_scope": ["general", "large"],
    "loan_years": 20,
    "vehicle_count": 2,
    "design_drawings": "7f3c2a",
    "phone": "13700009050",
    "delivery": "counter",
    "declaration": True,
}


def errors_of(changes: dict[str, Any], *, remove: tuple[str, ...] = (), **kwargs: Any) -> dict[str, list[str]]:
    data = {key: value for key, value in {**VALID, **changes}.items() if key not in remove}
    with translation.override("en"):
        return forms_engine.validate(SCHEMA, UI, data, **kwargs)


def field(code: str) -> FieldSpec:
    with translation.override("en"):
        return next(each for step in forms_engine.form_steps(SCHEMA, UI) for each in step.fields if each.code == code)


def post(pairs: list[tuple[str, str]]) -> QueryDict:
    return QueryDict(urlencode(pairs))


def all_fields_step() -> Step:
    with translation.override("en"):
        steps = forms_engine.form_steps(SCHEMA, UI)
    return Step(index=0, title="all", fields=tuple(each for step in steps for each in step.fields))


class FormPost(HTMLParser):
    """The name/value pairs a browser sends for a form, as far as these templates need."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_value: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "input":
            kind = attributes.get("type", "text")
            if kind in {"radio", "checkbox"} and "checked" not in attributes:
                return
            if kind not in {"file", "submit"}:
                self.pairs.append((attributes["name"], attributes.get("value", "")))
        elif tag == "select":
            self._select, self._select_value = attributes["name"], None
        elif tag == "option" and self._select is not None:
            if self._select_value is None or "selected" in attributes:
                self._select_value = attributes["value"]
        elif tag == "textarea":
            self._textarea = attributes["name"]
            self.pairs.append((self._textarea, ""))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            name, text = self.pairs.pop()
            self.pairs.append((name, text + data))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            self.pairs.append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def render_step(step: Step, values: dict[str, Any], errors: dict[str, list[str]] | None = None) -> str:
    context = {
        "step": step,
        "values": values,
        "errors": errors or {},
        "regions": [("杭州市", [("330105000000", "拱墅区"), (XIHU, "西湖区")])],
        "prefilled": {"applicant_name": "Filled in from the population registry"},
    }
    with translation.override("en"):
        return render_to_string("approvals/_form_step.html", context)
