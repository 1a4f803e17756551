"""A 办件编号 shown in its groups: breakable on a phone, the plain number when copied or read as text."""

from __future__ import annotations

from django.template import Context, Template

from approvals.applications.numbering import number_groups
from approvals.templatetags.application_number import grouped_number

NUMBER = "11330100MB0000000X1000000000001202601050001"  # USCC, level, basic code, day, sequence


def test_a_number_splits_into_its_credit_code_level_basic_code_day_and_sequence():
    assert number_groups(NUMBER) == ["11330100MB0000000X", "1", "000000000001", "20260105", "0001"]


def test_a_number_of_another_shape_stays_one_group():
    assert number_groups("A1") == ["A1"]


def test_the_filter_puts_each_group_in_a_span_with_a_line_break_allowed_between_them():
    assert grouped_number(NUMBER) == (
        '<span class="application-number"><span>11330100MB0000000X</span><wbr><span>1</span><wbr>'
        "<span>000000000001</span><wbr><span>20260105</span><wbr><span>0001</span></span>"
    )


def test_the_filter_escapes_what_it_is_given_and_leaves_an_empty_number_empty():
    assert grouped_number("<b>") == '<span class="application-number"><span>&lt;b&gt;</span></span>'
    assert grouped_number("") == ""
    assert grouped_number(None) == ""


def test_templates_load_it_by_its_library_name():
    rendered = Template("{% load application_number %}{{ number|grouped_number }}").render(Context({"number": NUMBER}))

    assert rendered.startswith('<span class="application-number"><span>11330100MB0000000X</span><wbr>')
