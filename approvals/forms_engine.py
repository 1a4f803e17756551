"""The application form engine: a service item's form, step by step, from its JSON Schema.

An item version stores ``form_schema`` (JSON Schema draft 2020-12) and ``form_ui``
(steps, bilingual labels, widgets, options, prefill sources and ``show_when``
conditions; see ``demo.catalogue_data.fields``). These functions turn the two into
what a page shows (``form_steps``), read an HTML form post back into typed values
(``parse_step``), check an answer with our own translatable messages (``validate``),
and show the answer again on a "check your answers" page (``display_value``).

Error keys are field codes; a part of a field has a dotted key: ``address.region``,
``address.detail``, ``rows.0.column`` for a column of a repeat's first row.
``NON_FIELD_ERRORS`` holds what belongs to no field.

A field whose ``show_when`` condition is false is hidden: its value is ignored and
its errors are never reported. A condition compares the controlling field's value
with ``equals`` (for a list value: whether the list holds it); a field whose
controlling field is hidden is hidden too.
"""

from __future__ import annotations

import datetime
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from django.utils.text import slugify
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from jsonschema import FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError

from datahub.identity import IdentityType, normalize_identity_number, validate_identity_number, validate_uscc
from services import form_keywords
from services.codes import RegionLevel
from services.models import Region

JsonObject = dict[str, Any]
Errors = dict[str, list[str]]

ADDRESS_PARTS = ("region", "detail")
# Up to this many options a select is shown as radio buttons; more make a drop-down list.
MAX_RADIO_OPTIONS = 5


@dataclass(frozen=True)
class FieldSpec:
    """One field as a page shows it, in the active language."""

    code: str
    label: str
    widget: str
    is_required: bool  # for a field with a show_when condition: required while it is shown
    hint: str  # the item's own hint and, for a conditional field, when it is needed
    options: tuple[tuple[str, str], ...]  # (value, label)
    source: str  # prefill source such as "registry:population.name", or ""
    show_when: tuple[str, Any] | None  # (controlling field code, the value that shows this field)
    item_fields: tuple[FieldSpec, ...]  # the columns of a repeat
    schema: dict[str, Any]  # the field's JSON Schema

    @property
    def has_radios(self) -> bool:
        """Whether a select shows its options as radio buttons rather than a drop-down list."""
        return len(self.options) <= MAX_RADIO_OPTIONS

    @property
    def min_date(self) -> str:
        """The earliest date allowed today as YYYY-MM-DD, for a date input's ``min`` ("" when unbounded)."""
        return _date_limit(self.schema, form_keywords.MIN_DATE)

    @property
    def max_date(self) -> str:
        """The latest date allowed today as YYYY-MM-DD, for a date input's ``max`` ("" when unbounded)."""
        return _date_limit(self.schema, form_keywords.MAX_DATE)


def _date_limit(schema: Mapping[str, Any], keyword: str) -> str:
    if keyword not in schema:
        return ""
    try:
        return form_keywords.date_bound(schema[keyword]).isoformat()
    except ValueError:
        return ""


@dataclass(frozen=True)
class Step:
    """One page of a form; ``index`` counts from 0, so that ``steps[step.index] is step``."""

    index: int
    title: str
    fields: tuple[FieldSpec, ...]


# --- Building the steps ---


def _is_chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


def _localized(text: Any) -> str:
    """The active language's text of a {"zh", "en"} object (the other one when it is missing)."""
    if isinstance(text, str):
        return text
    if not isinstance(text, Mapping):
        return ""
    first, second = ("zh", "en") if _is_chinese() else ("en", "zh")
    return str(text.get(first) or text.get(second) or "")


def _options(schema: JsonObject, ui_field: JsonObject) -> tuple[tuple[str, str], ...]:
    if ui_field.get("options"):
        return tuple(
            (str(option["value"]), _localized(option.get("label")) or str(option["value"]))
            for option in ui_field["options"]
        )
    enum = schema.get("enum") or (schema.get("items") or {}).get("enum") or []
    return tuple((str(value), str(value)) for value in enum)


def _conditionally_required(schema: JsonObject) -> set[str]:
    """Properties an if/then of the schema (or of its allOf) requires."""
    parts = [schema, *[part for part in schema.get("allOf", []) if isinstance(part, Mapping)]]
    return {code for part in parts for code in (part.get("then") or {}).get("required", [])}


def _field_spec(
    code: str,
    schema: JsonObject,
    ui_field: JsonObject,
    *,
    is_required: bool,
    condition_hint: str = "",
) -> FieldSpec:
    widget = str(ui_field.get("widget") or "text")
    item_fields: tuple[FieldSpec, ...] = ()
    if widget == "repeat":
        row_schema = schema.get("items") or {}
        row_required = set(row_schema.get("required", []))
        column_ui = ui_field.get("item_fields") or {}
        item_fields = tuple(
            _field_spec(column, column_schema, column_ui.get(column) or {}, is_required=column in row_required)
            for column, column_schema in (row_schema.get("properties") or {}).items()
        )
    condition = ui_field.get("show_when")
    hint = " ".join(text for text in (_localized(ui_field.get("hint")), condition_hint) if text)
    return FieldSpec(
        code=code,
        label=_localized(ui_field.get("label")) or str(schema.get("title") or code),
        widget=widget,
        is_required=is_required,
        hint=hint,
        options=_options(schema, ui_field),
        source=str(ui_field.get("source") or ""),
        show_when=(str(condition["field"]), condition.get("equals")) if isinstance(condition, Mapping) else None,
        item_fields=item_fields,
        schema=schema,
    )


def _condition_hint(condition: Any, properties: JsonObject, ui_fields: JsonObject) -> str:
    if not isinstance(condition, Mapping):
        return ""
    code = str(condition.get("field"))
    controller = _field_spec(code, properties.get(code) or {}, ui_fields.get(code) or {}, is_required=False)
    return _("Only needed if your answer to “%(question)s” is “%(answer)s”.") % {
        "question": controller.label,
        "answer": display_value(controller, condition.get("equals")),
    }


def _all_fields(schema: JsonObject, ui: JsonObject) -> dict[str, FieldSpec]:
    properties: JsonObject = schema.get("properties") or {}
    ui_fields: JsonObject = ui.get("fields") or {}
    required = set(schema.get("required", [])) | _conditionally_required(schema)
    return {
        code: _field_spec(
            code,
            field_schema,
            ui_fields.get(code) or {},
            is_required=code in required,
            condition_hint=_condition_hint((ui_fields.get(code) or {}).get("show_when"), properties, ui_fields),
        )
        for code, field_schema in properties.items()
    }


def form_steps(schema: dict[str, Any], ui: dict[str, Any]) -> list[Step]:
    """The steps of a form in the active language; fields in the schema but in no step make a last step."""
    fields = _all_fields(schema, ui)
    placed: set[str] = set()
    steps: list[Step] = []
    for entry in ui.get("steps") or []:
        codes = [code for code in entry.get("fields", []) if code in fields and code not in placed]
        if not codes:
            continue
        placed.update(codes)
        title = _localized(entry.get("title")) or _("Step %(number)d") % {"number": len(steps) + 1}
        steps.append(Step(index=len(steps), title=title, fields=tuple(fields[code] for code in codes)))
    rest = [field for code, field in fields.items() if code not in placed]
    if rest:
        title = _("Other details") if steps else _("Application form")
        steps.append(Step(index=len(steps), title=title, fields=tuple(rest)))
    return steps


def step_of_field(steps: list[Step], code: str) -> int:
    """The index of the step that shows a field; ``code`` may be an error key such as ``rows.0.name``.

    Raises ValueError when no step shows it.
    """
    for step in steps:
        if any(field.code == _top(code) for field in step.fields):
            return step.index
    raise ValueError(f"no step shows the field {code!r}")


def input_id(key: str) -> str:
    """The HTML id of the input an error key belongs to (``field-`` and the key slugified), for an error summary."""
    return f"field-{slugify(key)}"


# --- Reading a post ---


def _text(raw: str) -> str:
    return raw.strip()


def _number(raw: str, schema: JsonObject) -> int | float | str:
    text = re.sub(r"[\s,]", "", unicodedata.normalize("NFKC", raw))
    types = schema.get("type")
    is_integer = types == "integer" or (isinstance(types, list) and "integer" in types)
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return raw  # validation says "enter a number"
    if not math.isfinite(number):
        return raw
    if number.is_integer():
        return int(number)
    return raw if is_integer else number


def _scalar(field: FieldSpec, raw: str) -> Any:
    """The typed value of one posted string, or None when nothing was entered."""
    text = _text(raw)
    if not text:
        return None
    if field.widget == "number":
        return _number(text, field.schema)
    if field.widget == "id_number":
        return normalize_identity_number(text)
    if field.widget == "uscc":
        return re.sub(r"\s", "", unicodedata.normalize("NFKC", text).upper())
    return text


def _parse_value(field: FieldSpec, name: str, post: QueryDict) -> Any:
    """The value of one field whose inputs are named from ``name``, or None when it was left empty."""
    if field.widget == "checkbox":
        return True if name in post else None
    if field.widget == "multiselect":
        chosen = [_text(value) for value in post.getlist(name)]
        return list(dict.fromkeys(value for value in chosen if value)) or None
    if field.widget == "address":
        parts = {part: _text(post.get(f"{name}__{part}", "")) for part in ADDRESS_PARTS}
        return {part: value for part, value in parts.items() if value} or None
    if field.widget == "repeat":
        return _parse_rows(field, name, post) or None
    if field.widget == "file":
        return None  # an upload comes in the files; a kept one is the caller's to merge
    return _scalar(field, post.get(name, ""))


def _parse_rows(field: FieldSpec, name: str, post: QueryDict) -> list[dict[str, Any]]:
    pattern = re.compile(rf"^{re.escape(name)}__(\d+)__")
    indexes = sorted({int(match.group(1)) for key in post for match in [pattern.match(key)] if match})
    rows = []
    for index in indexes:
        row = {}
        for column in field.item_fields:
            value = _parse_value(column, f"{name}__{index}__{column.code}", post)
            if value is not None:
                row[column.code] = value
        if row:
            rows.append(row)
    return rows


def parse_step(
    step: Step, post: QueryDict, files: MultiValueDict[str, UploadedFile]
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """The typed values of a step's fields from an HTML form post, and the files uploaded.

    A field left empty has no key, so that ``required`` reports it. A file field's
    upload comes in the second dict; the caller stores it and puts the stored
    attachment's id into ``data[code]``. A file field never has a key in the first
    dict: when one is already uploaded the form posts ``<code>__keep``, and the
    caller then keeps the id it stored (it never takes an id from the post).
    """
    data: dict[str, Any] = {}
    uploads: dict[str, UploadedFile] = {}
    for field in step.fields:
        if field.widget == "file":
            upload = files.get(field.code)
            if upload is not None and upload.name:
                uploads[field.code] = upload
                continue
        value = _parse_value(field, field.code, post)
        if value is not None:
            data[field.code] = value
    return data, uploads


# --- Conditions ---


def _condition_holds(value: Any, equals: Any) -> bool:
    if isinstance(value, list):
        return equals in value
    # True == 1 in Python; a ticked box is no answer of 1.
    return bool(value == equals) and isinstance(value, bool) == isinstance(equals, bool)


def _is_shown(code: str, ui_fields: Mapping[str, Any], data: Mapping[str, Any], seen: tuple[str, ...] = ()) -> bool:
    condition = (ui_fields.get(code) or {}).get("show_when")
    if not isinstance(condition, Mapping):
        return True
    controller = str(condition.get("field"))
    if controller in seen:  # a cycle of conditions shows none of its fields
        return False
    if not _is_shown(controller, ui_fields, data, (*seen, code)):
        return False
    return _condition_holds(data.get(controller), condition.get("equals"))


def _hidden_codes(ui: Mapping[str, Any], data: Mapping[str, Any]) -> set[str]:
    ui_fields: Mapping[str, Any] = ui.get("fields") or {}
    return {code for code in ui_fields if not _is_shown(code, ui_fields, data)}


def visible_data(ui: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The answer without the values of hidden fields and of fields the form does not have."""
    known = set(ui.get("fields") or {}) | {code for step in ui.get("steps") or [] for code in step.get("fields", [])}
    hidden = _hidden_codes(ui, data)
    return {code: value for code, value in data.items() if code in known and code not in hidden}


# --- Validation ---


def _limit(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _required_message(field: FieldSpec | None, part: str) -> str:
    if part == "region":
        return _("Choose the county or district.")
    if part == "detail":
        return _("Enter the street address.")
    widget = field.widget if field else ""
    messages = {
        "select": _("Choose an option."),
        "multiselect": _("Choose at least one option."),
        "checkbox": _("Tick the box to confirm this declaration."),
        "file": _("Upload a file."),
        "repeat": _("Add at least one entry."),
        "address": _("Enter the address."),
        "date": _("Enter a date."),
        "number": _("Enter a number."),
        "id_number": _("Enter the ID number."),
        "uscc": _("Enter the unified social credit code."),
        "phone": _("Enter a phone number."),
    }
    return messages.get(widget, _("Fill in this field."))


def _pattern_message(field: FieldSpec | None, part: str) -> str:
    if part == "region":
        return _("Choose a county or district from the list.")
    widget = field.widget if field else ""
    messages = {
        "id_number": _("Enter an ID number of 18 characters: 17 digits, then a digit or X."),
        "uscc": _("Enter a unified social credit code of 18 characters: digits and capital letters."),
        "phone": _("Enter a mobile number of 11 digits, or a landline number with its area code."),
    }
    return messages.get(widget, _("This is not in the expected format."))


def _message(error: SchemaError, field: FieldSpec | None, part: str) -> str:
    """Our own message for one JSON Schema error on ``field`` (``part`` is an address part or "")."""
    kind = str(error.validator)
    limit: Any = error.validator_value
    widget = field.widget if field else ""
    if kind == "additionalProperties":
        return _("This field is not part of the form.")
    if kind == "required":
        return _required_message(field, part)
    if kind == "type":
        if widget == "number":
            types: Any = error.validator_value
            is_integer = types == "integer" or (isinstance(types, list) and "integer" in types)
            return _("Enter a whole number.") if is_integer else _("Enter a number.")
        return _("This value is not of the expected kind.")
    if kind == "minimum":
        return _("Enter a number of at least %(limit)s.") % {"limit": _limit(limit)}
    if kind == "exclusiveMinimum":
        return _("Enter a number greater than %(limit)s.") % {"limit": _limit(limit)}
    if kind == "maximum":
        return _("Enter a number of at most %(limit)s.") % {"limit": _limit(limit)}
    if kind == "exclusiveMaximum":
        return _("Enter a number less than %(limit)s.") % {"limit": _limit(limit)}
    if kind == "minLength":
        if int(limit) <= 1:
            return _required_message(field, part)
        return ngettext("Enter at least %(count)d character.", "Enter at least %(count)d characters.", int(limit)) % {
            "count": int(limit)
        }
    if kind == "maxLength":
        return ngettext("Enter at most %(count)d character.", "Enter at most %(count)d characters.", int(limit)) % {
            "count": int(limit)
        }
    if kind == "pattern":
        return _pattern_message(field, part)
    if kind == "enum":
        return _("Choose one of the options.")
    if kind == "const":
        if widget == "checkbox":
            return _("Tick the box to confirm this declaration.")
        return _("This value is not allowed.")
    if kind in {form_keywords.MIN_DATE, form_keywords.MAX_DATE, form_keywords.WORKING_DAY}:
        return _date_message(kind, limit)
    if kind == "format":
        if limit == "date":
            return _("Enter a real date as YYYY-MM-DD.")
        return _("This is not in the expected format.")
    if kind == "minItems":
        if int(limit) <= 1:
            return _required_message(field, part)
        if widget == "multiselect":
            return ngettext("Choose at least %(count)d option.", "Choose at least %(count)d options.", int(limit)) % {
                "count": int(limit)
            }
        return ngettext("Add at least %(count)d entry.", "Add at least %(count)d entries.", int(limit)) % {
            "count": int(limit)
        }
    if kind == "maxItems":
        if widget == "multiselect":
            return ngettext("Choose at most %(count)d option.", "Choose at most %(count)d options.", int(limit)) % {
                "count": int(limit)
            }
        return ngettext("Add at most %(count)d entry.", "Add at most %(count)d entries.", int(limit)) % {
            "count": int(limit)
        }
    if kind == "uniqueItems":
        if widget == "multiselect":
            return _("Choose each option only once.")
        return _("The same entry appears more than once.")
    return _("This value is not valid.")


def _date_message(kind: str, bound: Any) -> str:
    if kind == form_keywords.WORKING_DAY:
        return _("Choose a working day: Monday to Friday, not a public holiday.")
    is_today = bound == form_keywords.TODAY
    if kind == form_keywords.MIN_DATE:
        if is_today:
            return _("The date cannot be before today.")
        return _("The date cannot be before %(date)s.") % {"date": form_keywords.date_bound(bound).isoformat()}
    if is_today:
        return _("The date cannot be after today.")
    return _("The date cannot be after %(date)s.") % {"date": form_keywords.date_bound(bound).isoformat()}


def _locate(fields: Mapping[str, FieldSpec], parts: list[str | int]) -> tuple[str, FieldSpec | None, str]:
    """The error key of a path into the answer, the field that shows it, and the address part it names."""
    if not parts:
        return NON_FIELD_ERRORS, None, ""
    code = str(parts[0])
    field = fields.get(code)
    if field is None:
        return code, None, ""
    if field.widget == "repeat" and len(parts) >= 2:
        row_key = f"{code}.{parts[1]}"
        if len(parts) == 2:
            return row_key, field, ""
        key, column, part = _locate({column.code: column for column in field.item_fields}, parts[2:])
        return f"{row_key}.{key}", column, part
    if field.widget == "address" and len(parts) >= 2 and parts[1] in ADDRESS_PARTS:
        return f"{code}.{parts[1]}", field, str(parts[1])
    return code, field, ""


def _schema_errors(schema: JsonObject, data: Any, fields: Mapping[str, FieldSpec]) -> Errors:
    errors: Errors = {}
    validator = form_keywords.FormValidator(schema, format_checker=FormatChecker())
    for error in validator.iter_errors(data):
        path: list[str | int] = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, Mapping):
            # jsonschema reports each missing property in an error of its own; name them from the instance.
            required: Any = error.validator_value
            missing = [code for code in required if code not in error.instance]
            paths = [[*path, code] for code in missing]
        elif error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
            known = (error.schema or {}).get("properties", {}) if isinstance(error.schema, Mapping) else {}
            paths = [[*path, code] for code in error.instance if code not in known]
        else:
            paths = [path]
        for each in paths:
            key, field, part = _locate(fields, each)
            _add(errors, key, _message(error, field, part))
    return errors


def _add(errors: Errors, key: str, message: str) -> None:
    messages = errors.setdefault(key, [])
    if message not in messages:
        messages.append(message)


def _check_value(field: FieldSpec, value: Any, key: str, errors: Errors, regions: dict[str, str]) -> None:
    """The checks JSON Schema cannot make: check characters and real regions (collected in ``regions``)."""
    if field.widget in {"id_number", "uscc"} and isinstance(value, str) and key not in errors:
        try:
            if field.widget == "id_number":
                validate_identity_number(IdentityType.RESIDENT_ID, value)
            else:
                validate_uscc(value)
        except ValidationError as error:
            for message in error.messages:
                _add(errors, key, message)
    elif field.widget == "address" and isinstance(value, Mapping) and isinstance(value.get("region"), str):
        region_key = f"{key}.region"
        if region_key not in errors and key not in errors:
            regions[region_key] = value["region"]
    elif field.widget == "repeat" and isinstance(value, list):
        for index, row in enumerate(value):
            if isinstance(row, Mapping):
                for column in field.item_fields:
                    if column.code in row:
                        _check_value(column, row[column.code], f"{key}.{index}.{column.code}", errors, regions)


def _check_regions(regions: dict[str, str], errors: Errors) -> None:
    if not regions:
        return
    counties = set(
        Region.objects.filter(code__in=set(regions.values()), level=RegionLevel.COUNTY).values_list("code", flat=True)
    )
    for key, code in regions.items():
        if code not in counties:
            _add(errors, key, _("Choose a county or district from the list."))


def validate(
    schema: dict[str, Any], ui: dict[str, Any], data: dict[str, Any], *, only: Iterable[str] | None = None
) -> dict[str, list[str]]:
    """Everything wrong with an answer, as error key → messages, in the order the form shows its fields.

    ``only`` restricts the result to those field codes (to check one step); an
    error of the whole schema, such as a property an if/then requires, counts
    when it names one of them. Hidden fields are ignored.
    """
    fields = _all_fields(schema, ui)
    wanted = set(only) if only is not None else None
    hidden = _hidden_codes(ui, data) if isinstance(data, Mapping) else set()
    answer: Any = (
        {code: value for code, value in data.items() if code not in hidden} if isinstance(data, Mapping) else data
    )
    errors = _schema_errors(schema, answer, fields)
    if isinstance(answer, Mapping):
        regions: dict[str, str] = {}
        for code, value in answer.items():
            if code in fields and (wanted is None or code in wanted):
                _check_value(fields[code], value, code, errors, regions)
        _check_regions(regions, errors)
    kept = {
        key: messages
        for key, messages in errors.items()
        if _top(key) not in hidden and (wanted is None or _top(key) in wanted)
    }
    order = {code: position for position, code in enumerate(_ordered_codes(schema, ui))}
    return dict(sorted(kept.items(), key=lambda item: order.get(_top(item[0]), len(order))))


def _top(key: str) -> str:
    """The field code of an error key (``rows.0.name`` → ``rows``)."""
    return key.split(".", 1)[0]


def _ordered_codes(schema: JsonObject, ui: JsonObject) -> list[str]:
    steps_codes = [code for step in ui.get("steps") or [] for code in step.get("fields", [])]
    return list(dict.fromkeys([*steps_codes, *(schema.get("properties") or {})]))


# --- Showing an answer ---


def county_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The county-level regions grouped by their city, for an address's grouped <select>: (city, [(code, county)])."""
    counties = Region.objects.filter(level=RegionLevel.COUNTY).select_related("parent").order_by("code")
    return [
        (parent_name, [(county.code, county.name) for county in group])
        for parent_name, group in groupby(counties, key=lambda county: county.parent.name if county.parent else "")
    ]


def _region_name(code: str) -> str:
    """The full name of a region from its province down, such as "浙江省 杭州市 西湖区"."""
    region = Region.objects.select_related("parent__parent__parent").filter(code=code).first()
    names: list[str] = []
    while region is not None and region.level != RegionLevel.NATION:
        names.append(region.name)
        region = region.parent
    return " ".join(reversed(names)) or code


def display_value(field: FieldSpec, value: Any) -> str:
    """The answer to one field as text for a "check your answers" page ("" when there is none)."""
    if value is None or value == "" or value == [] or value == {}:
        return ""
    chinese = _is_chinese()
    labels = dict(field.options)
    if field.widget == "checkbox" or isinstance(value, bool):
        return _("Yes") if value else _("No")
    if field.widget in {"select", "multiselect"}:
        values = value if isinstance(value, list) else [value]
        return ("、" if chinese else ", ").join(labels.get(str(each), str(each)) for each in values)
    if field.widget == "address" and isinstance(value, Mapping):
        region = _region_name(str(value["region"])) if value.get("region") else ""
        return " ".join(text for text in (region, str(value.get("detail") or "")) if text)
    if field.widget == "repeat" and isinstance(value, list):
        return "\n".join(_display_row(field, row, chinese) for row in value if isinstance(row, Mapping))
    if field.widget == "file":
        return _("Uploaded")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _display_row(field: FieldSpec, row: Mapping[str, Any], chinese: bool) -> str:
    colon, separator = ("：", "；") if chinese else (": ", "; ")
    return separator.join(
        f"{column.label}{colon}{display_value(column, row[column.code])}"
        for column in field.item_fields
        if column.code in row
    )
