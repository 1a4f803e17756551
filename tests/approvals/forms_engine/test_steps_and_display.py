"""The application form engine: posts read back, steps from a JSON Schema, answers shown, the templates."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django.utils.datastructures import MultiValueDict

from approvals import forms_engine
from demo.catalogue_data.fields import form
from demo.catalogue_data.items import ITEMS
from tests.approvals.forms_engine.helpers import (
    HANGZHOU,
    ID_NUMBER,
    SCHEMA,
    UI,
    USCC,
    VALID,
    XIHU,
    FormPost,
    all_fields_step,
    errors_of,
    field,
    post,
    render_step,
)
from tests.services.factories import region

# --- parse_step ---


def test_parse_step_reads_every_widget_into_typed_values():
    pairs = [
        ("applicant_name", "  王小明 "),
        ("applicant_id_number", ID_NUMBER[:17].lower() + ID_NUMBER[17].lower()),
        ("birth_date", "1990-03-07"),
        ("gender", "male"),
        ("household_address__region", XIHU),
        ("household_address__detail", " 文三路90号 "),
        ("uscc", USCC.lower()),
        ("employee_count", "12"),
        ("registered_capital", "50.5"),
        ("business_scope", "餐饮服务\n零售"),
        ("shareholders__0__name", "张三"),
        ("shareholders__0__certificate_number", USCC),
        ("shareholders__0__contribution", "30"),
        ("shareholders__1__name", ""),
        ("shareholders__1__certificate_number", ""),
        ("shareholders__1__contribution", ""),
        ("shareholders__2__name", "李四"),
        ("shareholders__2__certificate_number", ""),
        ("shareholders__2__contribution", "20.5"),
        ("freight_scope", "general"),
        ("freight_scope", "large"),
        ("loan_years", "20"),
        ("vehicle_count", "２"),
        ("phone", "13700009050"),
        ("delivery", "post"),
        ("postal_address__region", ""),
        ("postal_address__detail", ""),
        ("declaration", "yes"),
    ]

    data, uploads = forms_engine.parse_step(all_fields_step(), post(pairs), MultiValueDict())

    assert data == {
        "applicant_name": "王小明",
        "applicant_id_number": ID_NUMBER,
        "birth_date": "1990-03-07",
        "gender": "male",
        "household_address": {"region": XIHU, "detail": "文三路90号"},
        "uscc": USCC,
        "employee_count": 12,
        "registered_capital": 50.5,
        "business_scope": "餐饮服务\n零售",
        "shareholders": [
            {"name": "张三", "certificate_number": USCC, "contribution": 30},
            {"name": "李四", "contribution": 20.5},
        ],
        "freight_scope": ["general", "large"],
        "loan_years": 20,
        "vehicle_count": 2,
        "phone": "13700009050",
        "delivery": "post",
        "declaration": True,
    }
    assert uploads == {}


def test_parse_step_leaves_empty_and_unticked_fields_out():
    pairs = [("applicant_name", "   "), ("registered_capital", ""), ("household_address__detail", "文三路")]

    data, _uploads = forms_engine.parse_step(all_fields_step(), post(pairs), MultiValueDict())

    assert data == {"household_address": {"detail": "文三路"}}


@pytest.mark.parametrize(
    ("code", "raw", "expected"),
    [
        ("registered_capital", "1,000", 1000),
        ("registered_capital", "2.0", 2),
        ("registered_capital", "abc", "abc"),
        ("registered_capital", "inf", "inf"),
        ("loan_years", "20.0", 20),
        ("loan_years", "1.5", "1.5"),
    ],
)
def test_numbers_become_int_or_float_and_bad_ones_stay_text(code, raw, expected):
    data, _uploads = forms_engine.parse_step(all_fields_step(), post([(code, raw)]), MultiValueDict())

    assert data == {code: expected}
    assert type(data[code]) is type(expected)


def test_repeat_rows_keep_their_order_by_index():
    pairs = [("shareholders__10__name", "十"), ("shareholders__2__name", "二"), ("shareholders__0__name", "零")]

    data, _uploads = forms_engine.parse_step(all_fields_step(), post(pairs), MultiValueDict())

    assert data == {"shareholders": [{"name": "零"}, {"name": "二"}, {"name": "十"}]}


def test_a_file_comes_back_as_an_upload_and_a_kept_file_is_left_to_the_caller():
    drawing = SimpleUploadedFile("plan.pdf", b"%PDF-1.4", content_type="application/pdf")

    new_data, new_uploads = forms_engine.parse_step(
        all_fields_step(), post([]), MultiValueDict({"design_drawings": [drawing]})
    )
    kept_data, kept_uploads = forms_engine.parse_step(
        all_fields_step(), post([("design_drawings__keep", "someone-elses-id")]), MultiValueDict()
    )

    assert (new_data, new_uploads) == ({}, {"design_drawings": drawing})
    assert (kept_data, kept_uploads) == ({}, {})


def test_a_parsed_post_validates_like_the_answer_it_stands_for(xihu):
    pairs = [("loan_years", "abc"), ("household_address__region", XIHU)]
    data, _uploads = forms_engine.parse_step(all_fields_step(), post(pairs), MultiValueDict())

    errors = errors_of(data)

    assert errors == {
        "household_address.detail": ["Enter the street address."],
        "loan_years": ["Enter a whole number."],
    }


# --- form_steps and step_of_field ---


def test_steps_follow_the_ui_and_speak_the_active_language():
    with translation.override("zh-hans"):
        chinese = forms_engine.form_steps(SCHEMA, UI)
    with translation.override("en"):
        english = forms_engine.form_steps(SCHEMA, UI)

    assert [step.title for step in chinese] == ["申请人信息", "单位信息", "申请事项", "联系方式、送达与承诺"]
    assert [step.title for step in english] == [
        "Applicant",
        "Organisation",
        "What you apply for",
        "Contact, delivery and declaration",
    ]
    assert [step.index for step in english] == [0, 1, 2, 3]
    assert [each.code for each in english[0].fields] == [
        "applicant_name",
        "applicant_id_number",
        "birth_date",
        "gender",
        "household_address",
    ]
    assert chinese[0].fields[0].label == "申请人姓名"
    assert english[0].fields[0].label == "Applicant's name"


def test_a_field_spec_carries_what_a_page_needs():
    gender = field("gender")
    shareholders = field("shareholders")
    postal_address = field("postal_address")

    assert gender.options == (("male", "Male"), ("female", "Female"))
    assert gender.source == "registry:population.gender"
    assert gender.is_required is True
    assert gender.has_radios is True
    assert field("employee_count").is_required is False
    assert [(column.code, column.label, column.is_required) for column in shareholders.item_fields] == [
        ("name", "Name", True),
        ("certificate_number", "ID number or credit code", True),
        ("contribution", "Subscribed capital (10,000 yuan)", True),
    ]
    assert postal_address.show_when == ("delivery", "post")
    assert postal_address.is_required is True
    assert (
        postal_address.hint
        == "Only needed if your answer to “How you receive the result” is “By post, free of charge”."
    )
    assert field("freight_scope").options[0] == ("general", "General freight")
    assert field("freight_scope").schema["uniqueItems"] is True


def test_fields_in_no_step_make_a_last_step_and_labels_fall_back():
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "title": "姓名"},
            "age": {"type": "integer", "title": "年龄"},
            "note": {"type": "string", "title": "备注"},
        },
        "required": ["name"],
    }
    ui = {
        "steps": [{"title": {"zh": "基本信息"}, "fields": ["name", "missing"]}],
        "fields": {"name": {"label": {"zh": "姓名"}, "widget": "text"}, "age": {"widget": "number"}},
    }

    with translation.override("en"):
        steps = forms_engine.form_steps(schema, ui)

    assert [(step.index, step.title) for step in steps] == [(0, "基本信息"), (1, "Other details")]
    assert [(each.code, each.label, each.widget) for each in steps[1].fields] == [
        ("age", "年龄", "number"),
        ("note", "备注", "text"),
    ]
    assert steps[0].fields[0].label == "姓名"


def test_a_form_without_steps_is_one_step():
    with translation.override("en"):
        steps = forms_engine.form_steps({"properties": {"name": {"type": "string"}}}, {})

    assert [(step.title, [each.code for each in step.fields]) for step in steps] == [("Application form", ["name"])]


def test_step_of_field_finds_the_step_of_a_field_or_an_error_key():
    with translation.override("en"):
        steps = forms_engine.form_steps(SCHEMA, UI)

    assert forms_engine.step_of_field(steps, "applicant_name") == 0
    assert forms_engine.step_of_field(steps, "uscc") == 1
    assert forms_engine.step_of_field(steps, "shareholders.0.name") == 2
    assert forms_engine.step_of_field(steps, "postal_address.region") == 3
    with pytest.raises(ValueError, match="nickname"):
        forms_engine.step_of_field(steps, "nickname")


def test_input_id_is_the_anchor_of_an_error_key():
    assert forms_engine.input_id("applicant_name") == "field-applicant_name"
    assert forms_engine.input_id("shareholders.1.name") == "field-shareholders1name"


# --- display_value and county_choices ---


def test_display_value_shows_labels_not_codes():
    with translation.override("en"):
        assert forms_engine.display_value(field("gender"), "female") == "Female"
        assert forms_engine.display_value(field("freight_scope"), ["general", "large"]) == (
            "General freight, Oversized loads"
        )
        assert forms_engine.display_value(field("declaration"), True) == "Yes"
        assert forms_engine.display_value(field("declaration"), False) == "No"
        assert forms_engine.display_value(field("birth_date"), datetime.date(1990, 3, 7)) == "1990-03-07"
        assert forms_engine.display_value(field("birth_date"), "1990-03-07") == "1990-03-07"
        assert forms_engine.display_value(field("registered_capital"), 50.5) == "50.5"
        assert forms_engine.display_value(field("design_drawings"), "7f3c2a") == "Uploaded"
        assert forms_engine.display_value(field("applicant_name"), None) == ""
        assert forms_engine.display_value(field("gender"), "other") == "other"


def test_display_value_in_chinese():
    with translation.override("zh-hans"):
        chinese_field = next(
            each for step in forms_engine.form_steps(SCHEMA, UI) for each in step.fields if each.code == "freight_scope"
        )
        assert forms_engine.display_value(chinese_field, ["general", "large"]) == "道路普通货物运输、大型物件运输"


def test_display_value_summarises_repeat_rows():
    rows = [{"name": "张三", "certificate_number": USCC, "contribution": 30}, {"name": "李四", "contribution": 20.5}]

    with translation.override("en"):
        text = forms_engine.display_value(field("shareholders"), rows)

    assert text == (
        f"Name: 张三; ID number or credit code: {USCC}; Subscribed capital (10,000 yuan): 30\n"
        "Name: 李四; Subscribed capital (10,000 yuan): 20.5"
    )


def test_display_value_names_the_region_of_an_address(xihu):
    address = {"region": XIHU, "detail": "文三路90号"}

    assert forms_engine.display_value(field("household_address"), address) == "浙江省 杭州市 西湖区 文三路90号"
    assert forms_engine.display_value(field("household_address"), {"region": "330199000000", "detail": "某路"}) == (
        "330199000000 某路"
    )


def test_county_choices_group_counties_by_city(db):
    region("330000000000", "浙江省")
    region(HANGZHOU, "杭州市")
    region("330200000000", "宁波市")
    region("330203000000", "海曙区")
    region("330106000000", "西湖区")
    region("330102000000", "上城区")
    region("330102001000", "清波街道")

    assert forms_engine.county_choices() == [
        ("杭州市", [("330102000000", "上城区"), ("330106000000", "西湖区")]),
        ("宁波市", [("330203000000", "海曙区")]),
    ]


# --- the demo catalogue's forms ---


def test_a_real_demo_item_form_validates_a_complete_answer(xihu):
    spec = next(each for each in ITEMS if each.name == "社会保障卡申领")
    schema, ui = form(spec.name, spec.fields, spec.optional_fields)
    answer = {
        "applicant_name": "王小明",
        "applicant_id_number": ID_NUMBER,
        "phone": "13700009050",
        "delivery": "post",
        "postal_address": {"region": XIHU, "detail": "文三路90号"},
        "declaration": True,
    }

    assert forms_engine.validate(schema, ui, answer) == {}
    assert forms_engine.visible_data(ui, answer) == answer


def test_the_demo_multiselect_field_is_an_array_of_options():
    schema, ui = form("道路货物运输经营许可", ("freight_scope", "phone", "declaration"))

    assert schema["properties"]["freight_scope"] == {
        "type": "array",
        "items": {"type": "string", "enum": ["general", "container", "large"]},
        "uniqueItems": True,
        "minItems": 1,
        "title": "经营范围",
    }
    assert ui["fields"]["freight_scope"]["widget"] == "multiselect"


# --- the templates: what a browser would post back is what parse_step reads ---


def test_the_rendered_step_posts_back_the_values_it_shows():
    step = all_fields_step()
    values = {
        **VALID,
        "employee_count": 3,
        "delivery": "post",
        "postal_address": {"region": XIHU, "detail": "文二路1号"},
    }
    values["shareholders"] = [*VALID["shareholders"], {"name": "李四", "certificate_number": "X1", "contribution": 0.5}]
    parser = FormPost()

    parser.feed(render_step(step, values))
    data, _uploads = forms_engine.parse_step(step, post(parser.pairs), MultiValueDict())

    assert data == {key: value for key, value in values.items() if key != "design_drawings"}
    assert ("design_drawings__keep", "1") in parser.pairs


def test_the_rendered_step_ties_errors_hints_and_notes_to_their_inputs():
    html = render_step(
        all_fields_step(),
        {"applicant_name": "王小明"},
        {"applicant_name": ["Enter at most 100 characters."], "shareholders.0.contribution": ["Enter a number."]},
    )

    assert (
        '<input type="text" name="applicant_name" id="field-applicant_name" value="王小明" minlength="1" '
        'maxlength="100" required aria-describedby="field-applicant_name-prefill field-applicant_name-error" '
        'aria-invalid="true">'
    ) in html
    assert (
        '<p class="hint prefilled" id="field-applicant_name-prefill">Filled in from the population registry</p>' in html
    )
    assert 'id="field-shareholders0contribution-error"' in html
    assert 'name="shareholders__0__contribution" id="field-shareholders0contribution"' in html
    assert 'pattern="^(1\\d{10}|0\\d{2,3}-?\\d{7,8})$"' in html
    assert 'type="tel"' in html
    assert 'type="date" name="birth_date"' in html
    assert (
        'name="loan_years" id="field-loan_years" value="" inputmode="numeric" step="1" min="1" max="30" required'
        in html
    )
    assert (
        'name="registered_capital" id="field-registered_capital" value="" inputmode="decimal" step="any" min="0" '
        "required" in html
    )


def test_a_conditional_field_is_rendered_visible_with_its_condition():
    html = render_step(all_fields_step(), {"delivery": "counter"})

    assert (
        '<div class="form-field" id="field-postal_address-wrapper" data-show-when-field="delivery" '
        'data-show-when-equals="post" data-show-when-current="counter">'
    ) in html
    assert "Only needed if your answer to “How you receive the result” is “By post, free of charge”." in html
    assert 'name="postal_address__region" id="field-postal_addressregion" autocomplete="off">' in html


def test_a_repeat_offers_one_empty_row_and_an_add_button():
    html = render_step(all_fields_step(), {"shareholders": VALID["shareholders"]})

    assert 'name="shareholders__1__name" id="field-shareholders1name" value="" minlength="1" maxlength="100">' in html
    assert "shareholders__2__" not in html
    assert '<button type="submit" name="add_row" value="shareholders" class="link-button" formnovalidate>' in html
    assert "<legend>Entry 2 (optional)</legend>" in html
