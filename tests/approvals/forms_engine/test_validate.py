"""The application form engine: answers checked, whole or one step at a time, and conditions."""

from __future__ import annotations

import pytest
from django.utils import translation

from approvals import forms_engine
from tests.approvals.forms_engine.helpers import (
    HANGZHOU,
    SCHEMA,
    UI,
    USCC,
    VALID,
    WRONG_CHECK_ID_NUMBER,
    WRONG_CHECK_USCC,
    XIHU,
    errors_of,
)

# --- validate: a complete answer, and every kind of field ---


def test_a_complete_answer_has_no_errors(xihu):
    assert errors_of({}) == {}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"applicant_name": "王" * 101}, {"applicant_name": ["Enter at most 100 characters."]}),
        ({"applicant_name": ""}, {"applicant_name": ["Fill in this field."]}),
        ({"business_scope": "x" * 2001}, {"business_scope": ["Enter at most 2000 characters."]}),
        ({"registered_capital": "abc"}, {"registered_capital": ["Enter a number."]}),
        ({"registered_capital": 0}, {"registered_capital": ["Enter a number greater than 0."]}),
        ({"vehicle_count": 0}, {"vehicle_count": ["Enter a number of at least 1."]}),
        ({"loan_years": 31}, {"loan_years": ["Enter a number of at most 30."]}),
        ({"loan_years": "1.5"}, {"loan_years": ["Enter a whole number."]}),
        ({"birth_date": "1990-02-30"}, {"birth_date": ["Enter a real date as YYYY-MM-DD."]}),
        ({"birth_date": "7 March 1990"}, {"birth_date": ["Enter a real date as YYYY-MM-DD."]}),
        ({"gender": "other"}, {"gender": ["Choose one of the options."]}),
        ({"declaration": False}, {"declaration": ["Tick the box to confirm this declaration."]}),
        (
            {"applicant_id_number": "33010619900307"},
            {"applicant_id_number": ["Enter an ID number of 18 characters: 17 digits, then a digit or X."]},
        ),
        (
            {"applicant_id_number": WRONG_CHECK_ID_NUMBER},
            {
                "applicant_id_number": [
                    "The last character of this number does not match the others; please check the number."
                ]
            },
        ),
        (
            {"uscc": "91330106ABC"},
            {"uscc": ["Enter a unified social credit code of 18 characters: digits and capital letters."]},
        ),
        (
            {"uscc": WRONG_CHECK_USCC},
            {"uscc": ["The check character of this unified social credit code is wrong; please check the code."]},
        ),
        (
            {"phone": "12345"},
            {"phone": ["Enter a mobile number of 11 digits, or a landline number with its area code."]},
        ),
        ({"freight_scope": []}, {"freight_scope": ["Choose at least one option."]}),
        ({"freight_scope": ["general", "ships"]}, {"freight_scope": ["Choose one of the options."]}),
        ({"freight_scope": ["general", "general"]}, {"freight_scope": ["Choose each option only once."]}),
        ({"shareholders": []}, {"shareholders": ["Add at least one entry."]}),
        ({"nickname": "小明"}, {"nickname": ["This field is not part of the form."]}),
    ],
)
def test_each_kind_of_field_says_what_is_wrong(xihu, changes, expected):
    assert errors_of(changes) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("applicant_name", "Fill in this field."),
        ("applicant_id_number", "Enter the ID number."),
        ("birth_date", "Enter a date."),
        ("gender", "Choose an option."),
        ("household_address", "Enter the address."),
        ("uscc", "Enter the unified social credit code."),
        ("registered_capital", "Enter a number."),
        ("shareholders", "Add at least one entry."),
        ("freight_scope", "Choose at least one option."),
        ("design_drawings", "Upload a file."),
        ("phone", "Enter a phone number."),
        ("declaration", "Tick the box to confirm this declaration."),
    ],
)
def test_a_missing_answer_is_asked_for_in_the_words_of_its_widget(xihu, code, expected):
    assert errors_of({}, remove=(code,)) == {code: [expected]}


def test_optional_fields_may_be_left_out(xihu):
    assert errors_of({}, remove=("employee_count", "family_members")) == {}


def test_address_parts_are_checked_one_by_one(xihu):
    errors = errors_of({"household_address": {"detail": "文"}})

    assert errors == {
        "household_address.region": ["Choose the county or district."],
        "household_address.detail": ["Enter at least 2 characters."],
    }


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (
            {"region": "3301", "detail": "文三路90号"},
            {"household_address.region": ["Choose a county or district from the list."]},
        ),
        (
            {"region": HANGZHOU, "detail": "文三路90号"},
            {"household_address.region": ["Choose a county or district from the list."]},
        ),
        (
            {"region": "330199000000", "detail": "文三路90号"},
            {"household_address.region": ["Choose a county or district from the list."]},
        ),
        ({"region": XIHU}, {"household_address.detail": ["Enter the street address."]}),
        (
            {"region": XIHU, "detail": "文三路90号", "floor": "3"},
            {"household_address": ["This field is not part of the form."]},
        ),
        ("文三路90号", {"household_address": ["This value is not of the expected kind."]}),
    ],
)
def test_an_address_needs_a_real_county_and_a_street_address(xihu, address, expected):
    assert errors_of({"household_address": address}) == expected


def test_repeat_rows_report_each_column_by_row(xihu):
    rows = [
        {"name": "张三", "certificate_number": USCC, "contribution": 50},
        {"name": "李四", "contribution": "lots"},
    ]

    errors = errors_of({"shareholders": rows})

    assert errors == {
        "shareholders.1.certificate_number": ["Fill in this field."],
        "shareholders.1.contribution": ["Enter a number."],
    }


def test_identity_numbers_in_repeat_rows_are_checked_too(xihu):
    rows = [{"name": "王小红", "id_number": WRONG_CHECK_ID_NUMBER, "relation": "女儿"}]

    errors = errors_of({"family_members": rows})

    assert errors == {
        "family_members.0.id_number": [
            "The last character of this number does not match the others; please check the number."
        ]
    }


def test_errors_come_in_the_order_of_the_form(xihu):
    errors = errors_of({}, remove=("declaration", "phone", "applicant_name"))

    assert list(errors) == ["applicant_name", "phone", "declaration"]


def test_a_whole_answer_that_is_no_object_is_a_form_error():
    with translation.override("en"):
        errors = forms_engine.validate(SCHEMA, UI, ["not", "an", "object"])

    assert errors == {"__all__": ["This value is not of the expected kind."]}


def test_messages_follow_the_active_language(xihu):
    data = {**VALID, "applicant_id_number": WRONG_CHECK_ID_NUMBER, "uscc": WRONG_CHECK_USCC}

    with translation.override("zh-hans"):
        errors = forms_engine.validate(SCHEMA, UI, data)

    assert errors == {
        "applicant_id_number": ["证件号码的校验位（最后一位）有误，请核对后重新填写。"],
        "uscc": ["该统一社会信用代码的校验位有误，请核对后重新填写。"],
    }


# --- validate: one step at a time ---


def test_only_restricts_the_errors_to_the_fields_of_a_step():
    errors = errors_of({"phone": "1"}, remove=("applicant_name", "household_address"), only=["phone", "delivery"])

    assert errors == {"phone": ["Enter a mobile number of 11 digits, or a landline number with its area code."]}


def test_only_still_counts_a_requirement_of_the_whole_schema(xihu):
    errors = errors_of({"delivery": "post"}, only=["postal_address"])

    assert errors == {"postal_address": ["Enter the address."]}


def test_only_skips_the_region_lookup_of_other_steps(django_assert_num_queries, db):
    with django_assert_num_queries(0):
        errors = errors_of({"household_address": {"region": "330199000000", "detail": "某路1号"}}, only=["phone"])

    assert errors == {}


# --- conditions (show_when) ---


def test_the_demo_form_shows_the_postal_address_only_for_delivery_by_post():
    assert UI["fields"]["postal_address"]["show_when"] == {"field": "delivery", "equals": "post"}
    assert "show_when" not in UI["fields"]["delivery"]


def test_a_hidden_field_is_neither_required_nor_checked(xihu):
    errors = errors_of({"delivery": "counter", "postal_address": {"region": "nonsense"}})

    assert errors == {}


def test_a_shown_conditional_field_is_required_and_checked(xihu):
    assert errors_of({"delivery": "post"}) == {"postal_address": ["Enter the address."]}
    assert errors_of({"delivery": "post", "postal_address": {"region": XIHU, "detail": "x"}}) == {
        "postal_address.detail": ["Enter at least 2 characters."]
    }
    assert errors_of({"delivery": "post", "postal_address": {"region": XIHU, "detail": "文二路1号"}}) == {}


def test_a_field_the_schema_always_requires_is_not_reported_while_hidden():
    schema = {
        "type": "object",
        "properties": {"has_agent": {"type": "boolean"}, "agent_name": {"type": "string", "minLength": 1}},
        "required": ["agent_name"],
    }
    ui = {
        "fields": {
            "has_agent": {"label": {"zh": "委托代理人", "en": "An agent applies"}, "widget": "checkbox"},
            "agent_name": {
                "label": {"zh": "代理人姓名", "en": "Agent's name"},
                "widget": "text",
                "show_when": {"field": "has_agent", "equals": True},
            },
        }
    }

    with translation.override("en"):
        hidden = forms_engine.validate(schema, ui, {})
        shown = forms_engine.validate(schema, ui, {"has_agent": True})

    assert hidden == {}
    assert shown == {"agent_name": ["Fill in this field."]}


def test_a_field_depending_on_a_hidden_field_is_hidden_too():
    ui = {
        "fields": {
            "delivery": {"widget": "select"},
            "express": {"widget": "checkbox", "show_when": {"field": "delivery", "equals": "post"}},
            "express_note": {"widget": "text", "show_when": {"field": "express", "equals": True}},
        }
    }

    kept = forms_engine.visible_data(ui, {"delivery": "counter", "express": True, "express_note": "快"})

    assert kept == {"delivery": "counter"}


def test_visible_data_drops_hidden_and_unknown_fields():
    data = {**VALID, "postal_address": {"region": XIHU, "detail": "文二路1号"}, "nickname": "小明"}

    assert forms_engine.visible_data(UI, data) == VALID
    assert forms_engine.visible_data(UI, {**data, "delivery": "post"}) == {
        **VALID,
        "delivery": "post",
        "postal_address": {"region": XIHU, "detail": "文二路1号"},
    }


def test_a_ticked_box_is_not_the_number_one():
    ui = {
        "fields": {
            "count": {"widget": "number"},
            "note": {"widget": "text", "show_when": {"field": "count", "equals": 1}},
        }
    }

    assert forms_engine.visible_data(ui, {"count": True, "note": "x"}) == {"count": True}
    assert forms_engine.visible_data(ui, {"count": 1, "note": "x"}) == {"count": 1, "note": "x"}
