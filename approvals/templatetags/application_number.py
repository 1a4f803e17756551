"""Shows a 办件编号 so that it fits a phone: in its groups, each a place where the line may break."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from approvals.applications.numbering import number_groups

register = template.Library()


@register.filter
def grouped_number(number: str | None) -> SafeString | str:
    """The number in its groups, spaced apart by CSS and with a line break allowed between them (``<wbr>``), so
    that what a person copies is still the plain number; an empty value stays empty."""
    if not number:
        return ""
    groups = format_html_join(
        mark_safe("<wbr>"),  # a constant tag
        "<span>{}</span>",
        ((group,) for group in number_groups(number)),
    )
    return format_html('<span class="application-number">{}</span>', groups)
