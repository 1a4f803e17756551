"""The keywords a form schema may add to JSON Schema, and what a published schema may say with them.

JSON Schema checks a date's format, not whether it is possible. A date field
(``{"type": "string", "format": "date"}``) may add:

- ``minDate`` / ``maxDate``: the earliest / latest date allowed, either a fixed
  ``YYYY-MM-DD`` or ``today`` with an optional offset in days (``today+1``,
  ``today-36500``), "today" being the day in Asia/Shanghai when the answer is checked;
- ``workingDay: true``: the date must be a working day of ``core.calendar``
  (Monday to Friday, except public holidays, plus the weekend days worked instead).

Numbers use JSON Schema's own ``minimum`` / ``exclusiveMinimum`` (an area or an
amount is ``exclusiveMinimum: 0``). The form engine (``approvals.forms_engine``)
applies these keywords; ``schema_problems`` here refuses a schema that misuses them
when an item is published or imported.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator, Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError as SchemaError

from core import calendar

MIN_DATE = "minDate"
MAX_DATE = "maxDate"
WORKING_DAY = "workingDay"
DATE_KEYWORDS = (MIN_DATE, MAX_DATE, WORKING_DAY)
TODAY = "today"

_RELATIVE = re.compile(r"^today(?:([+-])(\d{1,5}))?$")


def date_bound(text: Any, *, today: datetime.date | None = None) -> datetime.date:
    """The date a ``minDate``/``maxDate`` value names on ``today`` (the local date when omitted).

    Raises ValueError for anything but ``YYYY-MM-DD`` or ``today[±days]``.
    """
    if not isinstance(text, str):
        raise ValueError(f"not a date bound: {text!r}")
    match = _RELATIVE.match(text)
    if match is None:
        day = _date_of(text)
        if day is None:
            raise ValueError(f"not a date bound: {text!r}")
        return day
    day = today or timezone.localdate()
    sign, days = match.groups()
    offset = int(days or 0) * (-1 if sign == "-" else 1)
    return day + datetime.timedelta(days=offset)


def _is_date_field(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "string" and schema.get("format") == "date"


def _field_schemas(schema: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every property schema of a form schema, with the columns of its repeats (``rows/column``)."""
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return
    for code, field_schema in properties.items():
        if not isinstance(field_schema, Mapping):
            continue
        where = f"{path}{code}"
        yield where, field_schema
        items = field_schema.get("items")
        if isinstance(items, Mapping):
            yield from _field_schemas(items, f"{where}/")


def schema_problems(schema: Mapping[str, Any]) -> list[str]:
    """What is wrong with a form schema's use of the date keywords (empty when nothing is)."""
    problems: list[str] = []
    for where, field_schema in _field_schemas(schema):
        used = [keyword for keyword in DATE_KEYWORDS if keyword in field_schema]
        if not used:
            continue
        if not _is_date_field(field_schema):
            problems.append(
                _("%(where)s: %(keywords)s can only be used on a date field (a string of format date).")
                % {"where": where, "keywords": ", ".join(used)}
            )
            continue
        bounds = {}
        for keyword in (MIN_DATE, MAX_DATE):
            if keyword not in field_schema:
                continue
            try:
                bounds[keyword] = date_bound(field_schema[keyword])
            except ValueError:
                problems.append(
                    _("%(where)s: %(keyword)s must be a date as YYYY-MM-DD or “today”, optionally ±days (today+1).")
                    % {"where": where, "keyword": keyword}
                )
        if len(bounds) == 2 and bounds[MIN_DATE] > bounds[MAX_DATE]:
            problems.append(_("%(where)s: minDate comes after maxDate.") % {"where": where})
        if WORKING_DAY in field_schema and not isinstance(field_schema[WORKING_DAY], bool):
            problems.append(_("%(where)s: workingDay must be true or false.") % {"where": where})
    return problems


def _date_of(instance: Any) -> datetime.date | None:
    """The date an answer gives as YYYY-MM-DD, or None (the ``format`` keyword reports anything else)."""
    if not isinstance(instance, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", instance):
        return None
    try:
        return datetime.date.fromisoformat(instance)
    except ValueError:
        return None


def _bound_or_none(bound: Any) -> datetime.date | None:
    try:
        return date_bound(bound)
    except ValueError:  # an unpublished schema may hold anything; publication refuses it
        return None


def _min_date(validator: Any, bound: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[SchemaError]:
    day, limit = _date_of(instance), _bound_or_none(bound)
    if day is not None and limit is not None and day < limit:
        yield SchemaError(f"{instance} is before {limit.isoformat()}")


def _max_date(validator: Any, bound: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[SchemaError]:
    day, limit = _date_of(instance), _bound_or_none(bound)
    if day is not None and limit is not None and day > limit:
        yield SchemaError(f"{instance} is after {limit.isoformat()}")


def _working_day(validator: Any, wanted: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[SchemaError]:
    day = _date_of(instance)
    if wanted is True and day is not None and not calendar.is_working_day(day):
        yield SchemaError(f"{instance} is not a working day")


# Draft 2020-12 with the date keywords: what the form engine checks an answer with.
FormValidator = validators.extend(
    Draft202012Validator, {MIN_DATE: _min_date, MAX_DATE: _max_date, WORKING_DAY: _working_day}
)
