"""Checks that a catalogue entry is complete and consistent before it is published or imported.

Returns problems instead of raising, so an import can report every problem of
every row at once.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from services import form_keywords
from services.codes import implementation_code, validate_basic_code
from services.models import (
    Department,
    DepartmentKind,
    HandlingType,
    ItemType,
    OnlineDepth,
    RequiredRealNameLevel,
    ServedParty,
    ServiceItem,
)
from services.workflow_rules import problems as workflow_problems

Problems = dict[str, list[str]]

_CODE = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,39}$"}
_TEXT = {"type": "string", "minLength": 1}
MATERIALS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "name", "required", "form", "source"],
        "properties": {
            "code": _CODE,
            "name": _TEXT,
            "required": {"type": "boolean"},
            "form": {"enum": ["original", "copy", "original_and_copy", "electronic"]},
            "copies": {"type": "integer", "minimum": 0},
            "source": {"type": "string", "pattern": "^(upload|certificate:[A-Za-z0-9_.-]+|registry:[a-z_]+)$"},
            "notes": {"type": "string"},
            # Shown or signed in front of the clerk at the visit (an original, a declaration signed on site):
            # never an online upload (approvals.materials.provision_of).
            "at_counter": {"type": "boolean"},
        },
        "additionalProperties": False,
    },
}
# Words by which a material's name or notes says the applicant need not submit it (免提交): such a
# material must come from a certificate or a registry, or be optional, never be a required upload.
NO_SUBMISSION_MARKERS = ("免提交", "免于提交", "无需提交", "数据共享", "电子证照共享", "电子证照调取")
FEES_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "name", "standard", "amount_fen"],
        "properties": {
            "code": _CODE,
            "name": _TEXT,
            "standard": _TEXT,
            "legal_basis": {"type": "string"},
            "amount_fen": {"type": "integer", "minimum": 0},
            "per": {"type": "string"},
            "reducible": {"type": "boolean"},
        },
        "additionalProperties": False,
    },
}
FAQS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["question", "answer"],
        "properties": {"question": _TEXT, "answer": _TEXT},
        "additionalProperties": False,
    },
}
PROCESS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["name"],
        "properties": {"name": _TEXT, "description": {"type": "string"}},
        "additionalProperties": False,
    },
}
_LIST_SCHEMAS = {"materials": MATERIALS_SCHEMA, "fees": FEES_SCHEMA, "faqs": FAQS_SCHEMA, "process": PROCESS_SCHEMA}

# The most visits each star level allows (5★ 全程在线 0, 4★ 信任在先 1, 3★ 网上预审 2).
MAX_VISITS_BY_STAR = {5: 0, 4: 1, 3: 2}


def _add(problems: Problems, field: str, message: str) -> None:
    problems.setdefault(field, []).append(message)


def _json_problems(problems: Problems, field: str, value: Any) -> None:
    validator = Draft202012Validator(_LIST_SCHEMAS[field])
    for error in sorted(validator.iter_errors(value), key=lambda error: list(error.path)):
        where = "/".join(str(part) for part in error.path) or field
        _add(problems, field, _("%(where)s: %(error)s") % {"where": where, "error": error.message})
    if field in {"materials", "fees"} and isinstance(value, list):
        codes = [entry.get("code") for entry in value if isinstance(entry, dict)]
        duplicates = sorted({code for code in codes if codes.count(code) > 1 and code})
        if duplicates:
            _add(problems, field, _("Codes must be unique: %(codes)s") % {"codes": ", ".join(duplicates)})


def _material_problems(problems: Problems, materials: Any) -> None:
    """A material said to need no submission (免提交) but demanded as an upload; a fetched one of the counter."""
    if not isinstance(materials, list):
        return
    for entry in materials:
        if not isinstance(entry, dict) or not isinstance(entry.get("source"), str):
            continue
        text = f"{entry.get('name', '')} {entry.get('notes', '')}"
        is_upload = entry["source"] == "upload" and not entry.get("at_counter")
        if entry.get("required") is True and is_upload and any(marker in text for marker in NO_SUBMISSION_MARKERS):
            _add(
                problems,
                "materials",
                _(
                    "%(code)s: a material that need not be submitted (免提交) cannot be a required upload: give the "
                    "certificate or registry it comes from, or make it optional."
                )
                % {"code": entry.get("code")},
            )
        if entry.get("at_counter") and entry["source"] != "upload":
            _add(
                problems,
                "materials",
                _("%(code)s: a material taken from a certificate or registry is not brought to the counter.")
                % {"code": entry.get("code")},
            )


def served_party_flags(parties: list[str]) -> tuple[bool, bool]:
    """Whether an item belongs under 个人办事 and under 法人办事, from its 服务对象."""
    return ServedParty.NATURAL_PERSON in parties, any(party != ServedParty.NATURAL_PERSON for party in parties)


def item_problems(item: ServiceItem, *, department: Department | None = None) -> Problems:
    """Everything wrong with one version of an entry; empty when it may be published."""
    problems: Problems = {}
    department = department or item.department
    try:
        validate_basic_code(item.basic_code)
    except ValidationError as error:
        _add(problems, "basic_code", " ".join(error.messages))
    if department is not None:
        level = department.region.level
        if item.exercise_level != level:
            _add(
                problems,
                "exercise_level",
                _("The level exercised must be the level of the department's region (%(level)s).") % {"level": level},
            )
        expected = implementation_code(department_uscc=department.uscc, level=level, basic_code=item.basic_code)
        if item.implementation_code != expected:
            _add(
                problems,
                "implementation_code",
                _("The implementation code must be %(expected)s (credit code, level, basic code).")
                % {"expected": expected},
            )
    if not item.name.strip():
        _add(problems, "name", _("The name is required."))
    if item.item_type not in ItemType.values:
        _add(problems, "item_type", _("Unknown item type %(value)r.") % {"value": item.item_type})
    parties = item.served_parties
    if not isinstance(parties, list) or not parties or not set(parties) <= set(ServedParty.values):
        _add(problems, "served_parties", _("Choose at least one served party from the national code set (1–6)."))
    if item.handling_type not in HandlingType.values:
        _add(problems, "handling_type", _("Unknown handling type %(value)r.") % {"value": item.handling_type})
    if item.handling_type == HandlingType.COMMITTED:
        if not item.legal_limit or not item.promised_limit:
            _add(
                problems,
                "promised_limit",
                _("An item with a promised time needs both a statutory and a promised limit."),
            )
        elif item.legal_limit_unit == item.promised_limit_unit and item.promised_limit > item.legal_limit:
            _add(problems, "promised_limit", _("The promised time limit cannot be longer than the statutory one."))
    if item.online_depth not in OnlineDepth.values:
        _add(problems, "online_depth", _("Unknown online depth %(value)r.") % {"value": item.online_depth})
    if item.min_real_name_level not in RequiredRealNameLevel.values:
        _add(problems, "min_real_name_level", _("Applying needs real-name level 2 or 3."))
    if not 1 <= item.star_level <= 5:
        _add(problems, "star_level", _("The star level is from 1 to 5."))
    elif item.star_level in MAX_VISITS_BY_STAR and item.visits > MAX_VISITS_BY_STAR[item.star_level]:
        _add(
            problems,
            "visits",
            _("A %(stars)s-star item allows at most %(visits)s visits in person.")
            % {"stars": item.star_level, "visits": MAX_VISITS_BY_STAR[item.star_level]},
        )
    if item.star_level == 5 and item.online_depth != OnlineDepth.FULLY_ONLINE:
        _add(problems, "online_depth", _("A 5-star item must be fully online."))
    for field in _LIST_SCHEMAS:
        _json_problems(problems, field, getattr(item, field))
    _material_problems(problems, item.materials)
    if item.form_schema:
        try:
            Draft202012Validator.check_schema(item.form_schema)
        except SchemaError as error:
            _add(problems, "form_schema", _("Not a valid JSON Schema: %(error)s") % {"error": error.message})
        else:
            for message in form_keywords.schema_problems(item.form_schema):
                _add(problems, "form_schema", message)
    if not isinstance(item.workflow, dict):
        _add(problems, "workflow", _("The workflow must be an object with its stages."))
    elif item.workflow:
        fixed = {
            str(task.get("department", {}).get("uscc"))
            for stage in item.workflow.get("stages") or []
            if isinstance(stage, dict)
            for task in stage.get("tasks") or []
            if isinstance(task, dict)
            and isinstance(task.get("department"), dict)
            and task["department"].get("rule") == "fixed"
        }
        known_usccs = set(Department.objects.filter(uscc__in=fixed).values_list("uscc", flat=True)) if fixed else set()
        for message in workflow_problems(
            item.workflow, known_kinds=set(DepartmentKind.values), known_usccs=known_usccs
        ):
            _add(problems, "workflow", message)
    if isinstance(item.workflow, dict) and item.workflow.get("instant") and item.visits > 0:
        # A visit is where a person is seen: what it decides, a clerk decides there (a task), not the machine.
        _add(
            problems,
            "workflow",
            _(
                "An item that needs a visit in person cannot be decided by the machine at submission "
                "(instant): give its workflow a clerk's task, decided at the visit."
            ),
        )
    if item.effective_from and item.effective_to and item.effective_to < item.effective_from:
        _add(problems, "effective_to", _("The end date comes before the start date."))
    return problems


def bundle_order_problems(item_codes: list[str], depends_on: Any, founding_item_code: str) -> Problems:
    """What is wrong with a bundle's order: a wait on an item not in the bundle, a cycle, a founding item outside it."""
    problems: Problems = {}
    members = set(item_codes)
    if founding_item_code and founding_item_code not in members:
        _add(problems, "founding_item_code", _("The item that registers the enterprise must be one of the bundle's."))
    if not isinstance(depends_on, dict) or not all(
        isinstance(waits, list) and all(isinstance(code, str) for code in waits) for waits in depends_on.values()
    ):
        _add(problems, "depends_on", _("Expected an object that maps an item's code to the codes it waits for."))
        return problems
    named = set(depends_on) | {code for waits in depends_on.values() for code in waits}
    outside = sorted(named - members)
    if outside:
        _add(
            problems,
            "depends_on",
            _("An item can wait only for items of the same bundle; not in it: %(codes)s")
            % {"codes": ", ".join(outside)},
        )
        return problems
    if _has_cycle(depends_on):
        _add(problems, "depends_on", _("The items wait for each other in a circle, so none of them could start."))
    return problems


def _has_cycle(depends_on: dict[str, list[str]]) -> bool:
    finished: set[str] = set()
    for start in depends_on:
        path: set[str] = set()
        stack = [(start, iter(depends_on.get(start, [])))]
        path.add(start)
        while stack:
            code, waits = stack[-1]
            following = next(waits, None)
            if following is None:
                stack.pop()
                path.discard(code)
                finished.add(code)
            elif following in path:
                return True
            elif following not in finished:
                path.add(following)
                stack.append((following, iter(depends_on.get(following, []))))
    return False
