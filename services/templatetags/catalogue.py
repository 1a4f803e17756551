"""Template helpers for service guides: time limits in plain words, stars, money, labels."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language, gettext, gettext_lazy, ngettext

from services.models import DayUnit, HandlingType, ServiceItem

register = template.Library()


def _days(count: int, unit: str) -> str:
    if unit == DayUnit.CALENDAR:
        return ngettext("%(count)s calendar day", "%(count)s calendar days", count) % {"count": count}
    return ngettext("%(count)s working day", "%(count)s working days", count) % {"count": count}


@register.filter
def time_limits(item: ServiceItem) -> str:
    """法定 20 个工作日，承诺 5 个工作日办结 — or 即办 for an item decided at once."""
    if item.handling_type == HandlingType.IMMEDIATE:
        if item.legal_limit:
            return gettext("Decided at once (statutory limit %(legal)s)") % {
                "legal": _days(item.legal_limit, item.legal_limit_unit)
            }
        return gettext("Decided at once")
    if item.legal_limit and item.promised_limit:
        return gettext("Statutory limit %(legal)s, promised to be completed in %(promised)s") % {
            "legal": _days(item.legal_limit, item.legal_limit_unit),
            "promised": _days(item.promised_limit, item.promised_limit_unit),
        }
    if item.legal_limit:
        return gettext("Statutory limit %(legal)s") % {"legal": _days(item.legal_limit, item.legal_limit_unit)}
    return gettext("No time limit is set")


@register.filter
def visits_text(visits: int) -> str:
    return ngettext("%(count)s visit in person", "%(count)s visits in person", visits) % {"count": visits}


@register.filter
def stars(level: int) -> str:
    return "★" * level + "☆" * (5 - level)


@register.filter
def yuan(fen: int) -> str:
    """Integer fen as yuan with two decimals: 8000 → 80.00."""
    return f"{fen // 100}.{fen % 100:02d}"


@register.filter
def localized(value: Any) -> str:
    """Pick the current language from a {"zh": …, "en": …} label, falling back to Chinese."""
    if isinstance(value, dict):
        language = "en" if (get_language() or "").startswith("en") else "zh"
        return str(value.get(language) or value.get("zh") or "")
    return str(value or "")


MATERIAL_FORMS = {
    "original": gettext_lazy("Original"),
    "copy": gettext_lazy("Copy"),
    "original_and_copy": gettext_lazy("Original and copy"),
    "electronic": gettext_lazy("Electronic"),
}


@register.filter
def material_form(code: str) -> str:
    return str(MATERIAL_FORMS.get(code, code))


@register.filter
def material_source(source: str) -> str:
    if source.startswith("certificate:"):
        return gettext("Can be taken from your e-certificate wallet")
    if source.startswith("registry:"):
        return gettext("Filled from government records, no need to submit")
    return gettext("Upload")
