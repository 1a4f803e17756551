"""Import and export of the catalogue: regions, departments, themes, items, bundles, synonyms.

Two formats. JSON holds the whole catalogue in one document; CSV holds service
items only, one row per version, with list and object values as JSON text in
their cells and the department named by its credit code.

An import checks every row before it writes anything: one rejected row and
nothing is written. Imported items are approved by the import itself (a
platform admin runs it): a new entry becomes version 1, a changed entry a new
version that retires the one before, published by ``services.actions.version_publish``
as every version is; a published version is never modified in place.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import User
from core.errors import DomainError
from services.actions import EDITABLE_FIELDS, catalogue_updated, version_publish
from services.codes import RegionLevel, region_level_of, validate_uscc
from services.models import Bundle, Department, Region, ServiceItem, Synonym, Theme
from services.validation import Problems, item_problems, served_party_flags

FORMAT_NAME = "yiwangtongban-catalogue"
FORMAT_VERSION = 1
FORMATS = ("json", "csv")
SECTIONS = ("regions", "departments", "themes", "items", "bundles", "synonyms")
SECTION_LABELS: dict[str, str | Promise] = {
    "regions": gettext_lazy("Regions"),
    "departments": gettext_lazy("Departments"),
    "themes": gettext_lazy("Themes"),
    "items": gettext_lazy("Service items"),
    "bundles": gettext_lazy("Bundles"),
    "synonyms": gettext_lazy("Search synonyms"),
}

# What makes two versions of an entry the same: everything an editor can change,
# except the dates and the note, which describe the version rather than the service.
CONTENT_FIELDS = tuple(sorted(EDITABLE_FIELDS - {"effective_from", "effective_to", "change_note"}))
ITEM_VALUE_FIELDS = ("implementation_code", "basic_code", "exercise_level", *sorted(EDITABLE_FIELDS))
ITEM_COLUMNS = (
    "implementation_code", "basic_code", "department", "exercise_level", "version", "status",
    "effective_from", "effective_to", "name", "aliases", "summary", "item_type", "served_parties",
    "handling_type", "legal_limit", "legal_limit_unit", "promised_limit", "promised_limit_unit", "visits",
    "star_level", "online_depth", "min_real_name_level", "scope", "section", "conditions", "legal_basis",
    "consult_phone",
    "supervise_phone", "location", "hours", "materials", "fees", "faqs", "process", "form_schema", "form_ui",
    "workflow", "themes", "change_note",
)  # fmt: skip
JSON_COLUMNS = frozenset(
    {"served_parties", "materials", "fees", "faqs", "process", "form_schema", "form_ui", "workflow", "themes"}
)
REQUIRED_CSV_COLUMNS = ("implementation_code", "basic_code", "department", "exercise_level", "name")
OBJECT_FIELDS = ("form_schema", "form_ui", "workflow")
_OPEN_STATUSES = (ServiceItem.Status.DRAFT, ServiceItem.Status.IN_REVIEW, ServiceItem.Status.SCHEDULED)
_LOOKUP_CHUNK = 2000

_T = TypeVar("_T")


class Progress(Protocol):
    """Wraps the rows of one step to show how far it has come (a tqdm bar, or nothing)."""

    def __call__(self, rows: Sequence[_T], description: str) -> Iterable[_T]: ...


def no_progress(rows: Sequence[_T], description: str) -> Iterable[_T]:
    return rows


@dataclass(frozen=True)
class _Keyed:
    """A section whose rows are created or updated by a natural key."""

    model: type[models.Model]
    key: str
    fields: tuple[str, ...]
    relation: str | None = None  # a foreign key, named in the file by the related row's natural key
    related_section: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.key, *self.fields, *((self.relation,) if self.relation else ()))


KEYED = {
    "regions": _Keyed(Region, "code", ("name", "level"), "parent", "regions"),
    "departments": _Keyed(
        Department, "uscc", ("name", "short_name", "kind", "phone", "address", "description"), "region", "regions"
    ),
    "themes": _Keyed(Theme, "slug", ("name", "audience", "description", "position")),
    "bundles": _Keyed(
        Bundle, "slug", ("name", "audience", "description", "item_codes", "is_active"), "theme", "themes"
    ),
    "synonyms": _Keyed(Synonym, "term", ("expansions",)),
}


# --- Export ---------------------------------------------------------------


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.date) else value


def _keyed_rows(section: str) -> list[dict[str, Any]]:
    spec = KEYED[section]
    queryset = spec.model._default_manager.order_by(spec.key)
    if spec.relation:
        queryset = queryset.select_related(spec.relation)
    rows = []
    for obj in queryset:
        row = {name: _plain(getattr(obj, name)) for name in (spec.key, *spec.fields)}
        if spec.relation:
            related = getattr(obj, spec.relation)
            row[spec.relation] = getattr(related, KEYED[cast(str, spec.related_section)].key) if related else None
        rows.append(row)
    return rows


def item_rows(*, all_versions: bool = False) -> list[dict[str, Any]]:
    """The items as rows of the file: the published versions, or every version."""
    queryset = ServiceItem.objects.select_related("department").prefetch_related("themes")
    if not all_versions:
        queryset = queryset.published()
    rows = []
    for item in queryset.order_by("implementation_code", "version"):
        row: dict[str, Any] = {name: _plain(getattr(item, name)) for name in ITEM_VALUE_FIELDS}
        row.update(
            department=item.department.uscc,
            version=item.version,
            status=item.status,
            themes=sorted(theme.slug for theme in item.themes.all()),
        )
        rows.append({column: row[column] for column in ITEM_COLUMNS})
    return rows


def export_document(*, all_versions: bool = False) -> dict[str, Any]:
    """The whole catalogue as one JSON-ready document, in a stable order."""
    document: dict[str, Any] = {"format": FORMAT_NAME, "version": FORMAT_VERSION}
    for section in SECTIONS:
        document[section] = item_rows(all_versions=all_versions) if section == "items" else _keyed_rows(section)
    return document


def document_json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def items_csv(rows: list[dict[str, Any]]) -> str:
    """Item rows as CSV text, starting with a byte-order mark so that Excel reads it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(ITEM_COLUMNS)
    for row in rows:
        writer.writerow([_cell(column, row[column]) for column in ITEM_COLUMNS])
    return "\ufeff" + buffer.getvalue()


def _cell(column: str, value: Any) -> str:
    if column in JSON_COLUMNS:
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


# --- Reading files --------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    """One row of an import file and where it stands, to name it in the report."""

    section: str
    values: Any  # a dict for a well-formed row
    line: int | None = None  # CSV: the line of the file the row starts on
    record: int | None = None  # CSV: its row in a spreadsheet (differs from the line after a cell of several lines)
    index: int | None = None  # JSON: its index in the section's list
    is_text: bool = False  # CSV: every value is text, JSON values are in their cells as text

    def where(self) -> str:
        if self.line is not None:
            if self.record is not None and self.record != self.line:
                return _("line %(line)s (spreadsheet row %(row)s)") % {"line": self.line, "row": self.record}
            return _("line %(line)s") % {"line": self.line}
        return f"{self.section}[{self.index}]"


@dataclass
class CatalogueFile:
    sections: dict[str, list[SourceRow]] = field(default_factory=dict)

    def rows(self, section: str) -> list[SourceRow]:
        return self.sections.get(section, [])

    @property
    def row_count(self) -> int:
        return sum(len(rows) for rows in self.sections.values())


def file_format(path: str, chosen: str | None = None) -> str:
    """``json`` or ``csv``: as chosen, else by the file's extension."""
    if chosen:
        return chosen
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    raise DomainError(_("Cannot tell the format from the file name; choose it with --format json or --format csv."))


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError(
            _("The file is not UTF-8 text. Save it as “CSV UTF-8” (or as UTF-8 JSON) and try again."),
            code="bad_file",
        ) from None


def read_document(text: str) -> CatalogueFile:
    """The rows of a JSON catalogue document."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise DomainError(_("The file is not valid JSON: %(error)s") % {"error": error}, code="bad_file") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise DomainError(
            _("This is not a catalogue file: its “format” must be “%(name)s”.") % {"name": FORMAT_NAME},
            code="bad_file",
        )
    if document.get("version") != FORMAT_VERSION:
        raise DomainError(
            _("This catalogue file has version %(found)s; this portal reads version %(version)s.")
            % {"found": document.get("version"), "version": FORMAT_VERSION},
            code="bad_file",
        )
    unknown = sorted(set(document) - {"format", "version", *SECTIONS})
    if unknown:
        raise DomainError(_("Unknown sections in the file: %(names)s") % {"names": ", ".join(unknown)}, code="bad_file")
    source = CatalogueFile()
    for section in SECTIONS:
        entries = document.get(section, [])
        if not isinstance(entries, list):
            raise DomainError(_("The section “%(section)s” must be a list.") % {"section": section}, code="bad_file")
        source.sections[section] = [SourceRow(section, values, index=index) for index, values in enumerate(entries)]
    return source


def read_items_csv(text: str) -> CatalogueFile:
    """The item rows of a CSV file; the first line names the columns."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise DomainError(_("The file is empty."), code="bad_file") from None
    except csv.Error as error:
        raise DomainError(_("The file is not valid CSV: %(error)s") % {"error": error}, code="bad_file") from None
    problems = []
    unknown = [name for name in header if name not in ITEM_COLUMNS]
    if unknown:
        problems.append(_("Unknown columns: %(names)s") % {"names": ", ".join(unknown)})
    missing = [name for name in REQUIRED_CSV_COLUMNS if name not in header]
    if missing:
        problems.append(_("Missing columns: %(names)s") % {"names": ", ".join(missing)})
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        problems.append(_("Columns named twice: %(names)s") % {"names": ", ".join(repeated)})
    if problems:
        raise DomainError(" ".join(problems), code="bad_file")
    rows = []
    end_of_previous = reader.line_num
    try:
        for record, cells in enumerate(reader, start=2):
            line, end_of_previous = end_of_previous + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # spreadsheets leave empty lines at the end
            values: Any = dict(zip(header, cells, strict=False))
            if len(cells) != len(header):
                values = _WrongLength(len(cells), len(header))
            elif len(values.get("item_type", "")) == 1:
                # Spreadsheets drop the leading zero of 01 … 09.
                values["item_type"] = values["item_type"].zfill(2)
            rows.append(SourceRow("items", values, line=line, record=record, is_text=True))
    except csv.Error as error:
        raise DomainError(
            _("The file is not valid CSV near line %(line)s: %(error)s") % {"line": reader.line_num, "error": error},
            code="bad_file",
        ) from None
    return CatalogueFile(sections={"items": rows})


@dataclass(frozen=True)
class _WrongLength:
    cells: int
    expected: int


# --- Import ---------------------------------------------------------------


@dataclass
class Rejection:
    row: SourceRow
    label: str  # the row's code and name, as the file gives them
    reasons: Problems


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # item rows of versions that are not published


@dataclass
class ImportResult:
    row_count: int
    rejections: list[Rejection]
    counts: dict[str, Counts]
    is_written: bool
    published_ids: list[int] = field(default_factory=list)
    retired_ids: list[int] = field(default_factory=list)


def import_catalogue(
    source: CatalogueFile,
    *,
    actor: User | None = None,
    is_dry_run: bool = False,
    today: datetime.date | None = None,
    note: str = "",
    progress: Progress = no_progress,
) -> ImportResult:
    """Check every row of ``source``; write them all in one transaction only if none is rejected."""
    with transaction.atomic():
        run = _Import(source, actor=actor, today=today or timezone.localdate(), note=note, progress=progress)
        run.check()
        result = ImportResult(
            row_count=source.row_count, rejections=run.rejections, counts=run.counts, is_written=False
        )
        if run.rejections or is_dry_run:
            return result
        run.write()
        result.is_written = True
        result.published_ids, result.retired_ids = run.published_ids, run.retired_ids
        to_reindex = sorted({*run.published_ids, *run.affected_item_ids()} - set(run.retired_ids))
        retired = list(run.retired_ids)
        transaction.on_commit(lambda: catalogue_updated(published_ids=to_reindex, retired_ids=retired))
    return result


def rejection_report(rejections: list[Rejection]) -> list[str]:
    """The report for people: each rejected row, where it is, and every reason."""
    lines = []
    for rejection in rejections:
        lines.append(
            _("%(section)s, %(where)s (%(label)s):")
            % {
                "section": SECTION_LABELS[rejection.row.section],
                "where": rejection.row.where(),
                "label": rejection.label or "—",
            }
        )
        for column, messages in rejection.reasons.items():
            for message in messages:
                lines.append(f"  - {column}: {message}" if column else f"  - {message}")
    return lines


def count_lines(counts: dict[str, Counts]) -> list[str]:
    lines = []
    for section in SECTIONS:
        if section not in counts:
            continue
        numbers = counts[section]
        line = _("%(section)s: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.") % {
            "section": SECTION_LABELS[section],
            "created": numbers.created,
            "updated": numbers.updated,
            "unchanged": numbers.unchanged,
        }
        if numbers.skipped:
            line += " " + ngettext(
                "%(skipped)s row of a version that is not published was skipped.",
                "%(skipped)s rows of versions that are not published were skipped.",
                numbers.skipped,
            ) % {"skipped": numbers.skipped}
        lines.append(line)
    return lines


def _add(problems: Problems, column: str, message: str) -> None:
    messages = problems.setdefault(column, [])
    if message not in messages:
        messages.append(message)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _model_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    return cast("models.Field[Any, Any]", model._meta.get_field(name))


def _empty_value(model_field: models.Field[Any, Any]) -> Any:
    if model_field.null:
        return None
    if model_field.has_default():
        return model_field.get_default()
    return "" if model_field.empty_strings_allowed else None


def _clean(model: type[models.Model], row: SourceRow, names: Iterable[str], problems: Problems) -> dict[str, Any]:
    """The row's values for these fields, converted and checked by the model's own field rules."""
    values: dict[str, Any] = {}
    for name in names:
        model_field = _model_field(model, name)
        raw = row.values.get(name)
        is_json = isinstance(model_field, models.JSONField)
        if is_json and row.is_text and not _is_empty(raw):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as error:
                _add(problems, name, _("This cell is not valid JSON: %(error)s") % {"error": error})
                values[name] = _empty_value(model_field)
                continue
        elif not is_json and isinstance(raw, list | dict):
            _add(problems, name, _("Expected a single value, not a list or an object."))
            values[name] = _empty_value(model_field)
            continue
        if _is_empty(raw):
            raw = _empty_value(model_field)
        try:
            value = model_field.to_python(raw)
        except ValidationError as error:
            for message in error.messages:
                _add(problems, name, message)
            values[name] = _empty_value(model_field)
            continue
        values[name] = value
        try:
            model_field.validate(value, None)  # only a foreign key reads the instance, and none comes here
            model_field.run_validators(value)
        except ValidationError as error:
            for message in error.messages:
                _add(problems, name, message)
    return values


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


@dataclass
class _Candidate:
    """A row of a keyed section after its own checks, before those that need other rows."""

    row: SourceRow
    key: str
    values: dict[str, Any]
    related_key: str | None
    problems: Problems
    existing: models.Model | None = None
    changed: list[str] = field(default_factory=list)


@dataclass
class _ItemPlan:
    row: SourceRow
    values: dict[str, Any]
    department_uscc: str
    theme_slugs: list[str]
    version: int
    effective_from: datetime.date
    previous: ServiceItem | None  # the published version this one takes over from


def _lookup(queryset: models.QuerySet[Any], field_name: str, keys: Iterable[str]) -> list[Any]:
    keys = sorted(set(keys))
    found: list[Any] = []
    for start in range(0, len(keys), _LOOKUP_CHUNK):
        found.extend(queryset.filter(**{f"{field_name}__in": keys[start : start + _LOOKUP_CHUNK]}))
    return found


class _Import:
    """One import: the checks of every row against the file and the database, then the writes."""

    def __init__(
        self, source: CatalogueFile, *, actor: User | None, today: datetime.date, note: str, progress: Progress
    ) -> None:
        self.source = source
        self.actor = actor
        self.today = today
        self.note = note
        self.progress = progress
        self.rejections: list[Rejection] = []
        self.counts = {section: Counts() for section in SECTIONS if source.rows(section)}
        self.candidates: dict[str, list[_Candidate]] = {}
        self.region_levels: dict[str, int | None] = {}  # every region named or referred to, after the import
        self.item_plans: list[_ItemPlan] = []
        self.published_ids: list[int] = []
        self.retired_ids: list[int] = []
        self.updated_department_ids: list[int] = []
        self.updated_theme_ids: list[int] = []

    # --- checks ---

    def check(self) -> None:
        for section in KEYED:
            self.candidates[section] = [self._clean_keyed(section, row) for row in self.source.rows(section)]
        self._check_regions()
        self._check_departments()
        self._check_simple("themes")
        self._check_items()
        self._check_bundles()
        self._check_simple("synonyms")
        for section in KEYED:
            for candidate in self.candidates[section]:
                if candidate.problems:
                    self._reject(candidate.row, candidate.problems)
                else:
                    self._count_keyed(section, candidate)
        self.rejections.sort(key=lambda rejection: (SECTIONS.index(rejection.row.section), _position(rejection.row)))

    def _reject(self, row: SourceRow, problems: Problems) -> None:
        values = row.values if isinstance(row.values, dict) else {}
        spec = KEYED.get(row.section)
        key = values.get(spec.key if spec else "implementation_code")
        name = values.get("name")
        label = " ".join(str(part) for part in (key, name) if not _is_empty(part) and not isinstance(part, dict))
        self.rejections.append(Rejection(row=row, label=label, reasons=problems))

    def _unknown_columns(self, row: SourceRow, columns: Iterable[str], problems: Problems) -> bool:
        """Whether the row can be read at all; notes what is wrong with its shape."""
        if isinstance(row.values, _WrongLength):
            _add(
                problems,
                "",
                _("This row has %(cells)s cells; the header has %(expected)s.")
                % {"cells": row.values.cells, "expected": row.values.expected},
            )
            return False
        if not isinstance(row.values, dict):
            _add(problems, "", _("Each entry must be a JSON object."))
            return False
        for name in sorted(set(row.values) - set(columns)):
            _add(problems, str(name), _("Unknown field."))
        return True

    def _clean_keyed(self, section: str, row: SourceRow) -> _Candidate:
        spec = KEYED[section]
        problems: Problems = {}
        if not self._unknown_columns(row, spec.columns, problems):
            return _Candidate(row, "", {}, None, problems)
        names = [name for name in (spec.key, *spec.fields) if not (section == "regions" and name == "level")]
        values = _clean(spec.model, row, names, problems)
        related_key = None
        if spec.relation:
            raw = row.values.get(spec.relation)
            if not _is_empty(raw) and not isinstance(raw, str):
                _add(problems, spec.relation, _("Expected a code as text."))
            elif not _is_empty(raw):
                related_key = raw.strip()
        key = values.get(spec.key) or ""
        return _Candidate(row, key, values, related_key, problems)

    def _mark_duplicates(self, candidates: list[_Candidate]) -> None:
        first: dict[str, _Candidate] = {}
        for candidate in candidates:
            if not candidate.key:
                continue
            earlier = first.setdefault(candidate.key, candidate)
            if earlier is not candidate:
                _add(
                    candidate.problems,
                    KEYED[candidate.row.section].key,
                    _("The file has this entry more than once (also at %(where)s).") % {"where": earlier.row.where()},
                )

    def _load_existing(self, section: str) -> None:
        spec = KEYED[section]
        queryset = spec.model._default_manager.all()
        if spec.relation:
            queryset = queryset.select_related(spec.relation)
        keys = [candidate.key for candidate in self.candidates[section] if candidate.key]
        existing = {getattr(obj, spec.key): obj for obj in _lookup(queryset, spec.key, keys)}
        for candidate in self.candidates[section]:
            candidate.existing = existing.get(candidate.key)

    def _plan_keyed(self, section: str, candidate: _Candidate) -> None:
        """Which fields of the existing row the file changes."""
        spec = KEYED[section]
        if candidate.existing is None:
            return
        candidate.changed = [
            name for name in spec.fields if getattr(candidate.existing, name) != candidate.values.get(name)
        ]
        if spec.relation:
            related = getattr(candidate.existing, spec.relation)
            related_key = getattr(related, KEYED[cast(str, spec.related_section)].key) if related else None
            if related_key != candidate.related_key:
                candidate.changed.append(spec.relation)

    def _count_keyed(self, section: str, candidate: _Candidate) -> None:
        counts = self.counts[section]
        if candidate.existing is None:
            counts.created += 1
        elif candidate.changed:
            counts.updated += 1
        else:
            counts.unchanged += 1

    def _check_simple(self, section: str) -> None:
        candidates = self.candidates[section]
        self._mark_duplicates(candidates)
        self._load_existing(section)
        for candidate in candidates:
            self._plan_keyed(section, candidate)

    def _region_levels(self) -> dict[str, int | None]:
        """Level of every region the file names or refers to, as it will be after the import."""
        levels: dict[str, int | None] = {
            candidate.key: candidate.values.get("level")
            for candidate in self.candidates["regions"]
            if candidate.key and "code" not in candidate.problems
        }
        referred = {
            candidate.related_key
            for section in ("regions", "departments")
            for candidate in self.candidates[section]
            if candidate.related_key
        } - set(levels)
        for code, level in _lookup(Region.objects.values_list("code", "level"), "code", referred):
            levels[code] = level
        return levels

    def _check_regions(self) -> None:
        candidates = self.candidates["regions"]
        for candidate in candidates:
            if "code" in candidate.problems or not isinstance(candidate.row.values, dict):
                continue
            shape_level = region_level_of(candidate.key)
            raw_level = candidate.row.values.get("level")
            if _is_empty(raw_level):
                candidate.values["level"] = shape_level
                continue
            level = _clean(Region, candidate.row, ["level"], candidate.problems).get("level")
            candidate.values["level"] = level
            if level is not None and "level" not in candidate.problems and level != shape_level:
                _add(
                    candidate.problems,
                    "level",
                    _("The code %(code)s is the code of a %(expected)s, not of a %(given)s.")
                    % {
                        "code": candidate.key,
                        "expected": RegionLevel(cast(int, shape_level)).label,
                        "given": RegionLevel(level).label,
                    },
                )
        self._mark_duplicates(candidates)
        self.region_levels = self._region_levels()
        self._load_existing("regions")
        for candidate in candidates:
            level = candidate.values.get("level")
            if candidate.related_key is None:
                if isinstance(level, int) and level > RegionLevel.PROVINCE:
                    _add(candidate.problems, "parent", _("A region below the province needs its parent region."))
            elif candidate.related_key not in self.region_levels:
                _add(
                    candidate.problems,
                    "parent",
                    _("There is no region with the code %(code)s in the file or in the database.")
                    % {"code": candidate.related_key},
                )
            else:
                parent_level = self.region_levels[candidate.related_key]
                if isinstance(level, int) and parent_level is not None and parent_level >= level:
                    _add(candidate.problems, "parent", _("The parent region must be at a higher level."))
            self._plan_keyed("regions", candidate)

    def _check_departments(self) -> None:
        candidates = self.candidates["departments"]
        self._mark_duplicates(candidates)
        self._load_existing("departments")
        for candidate in candidates:
            if not isinstance(candidate.row.values, dict):
                continue
            if candidate.related_key is None:
                _add(candidate.problems, "region", _("The department's region is required."))
            elif candidate.related_key not in self.region_levels:
                _add(
                    candidate.problems,
                    "region",
                    _("There is no region with the code %(code)s in the file or in the database.")
                    % {"code": candidate.related_key},
                )
            self._plan_keyed("departments", candidate)
        self._check_one_kind_per_region(candidates)

    def _check_one_kind_per_region(self, candidates: list[_Candidate]) -> None:
        """The departments after the import may not have two of one kind in one region."""
        in_file = [candidate for candidate in candidates if candidate.key and candidate.related_key]
        regions = {candidate.related_key for candidate in in_file}
        final: dict[str, tuple[str | None, str, str]] = {
            uscc: (region_code, kind, name)
            for uscc, region_code, kind, name in _lookup(
                Department.objects.values_list("uscc", "region__code", "kind", "name"),
                "region__code",
                cast(set[str], regions),
            )
        }
        for candidate in in_file:
            final[candidate.key] = (candidate.related_key, candidate.values.get("kind", ""), candidate.values["name"])
        holders: dict[tuple[str | None, str], list[str]] = {}
        for uscc, (region_code, kind, _name) in sorted(final.items()):
            holders.setdefault((region_code, kind), []).append(uscc)
        for candidate in in_file:
            others = [
                uscc
                for uscc in holders[(candidate.related_key, candidate.values.get("kind", ""))]
                if uscc != candidate.key
            ]
            if others:
                _add(
                    candidate.problems,
                    "kind",
                    _("Another department of this kind is in this region: %(others)s.")
                    % {"others": ", ".join(f"{final[uscc][2]} ({uscc})" for uscc in others)},
                )

    def _check_bundles(self) -> None:
        candidates = self.candidates["bundles"]
        self._mark_duplicates(candidates)
        self._load_existing("bundles")
        file_themes = {candidate.key for candidate in self.candidates["themes"] if candidate.key}
        referred_themes = {candidate.related_key for candidate in candidates if candidate.related_key}
        known_themes = file_themes | set(
            _lookup(Theme.objects.values_list("slug", flat=True), "slug", referred_themes - file_themes)
        )
        file_codes = {
            row.values.get("implementation_code") for row in self.source.rows("items") if isinstance(row.values, dict)
        }
        referred_codes = {
            code
            for candidate in candidates
            if isinstance(candidate.values.get("item_codes"), list)
            for code in candidate.values["item_codes"]
            if isinstance(code, str)
        }
        known_codes = file_codes | set(
            _lookup(
                ServiceItem.objects.values_list("implementation_code", flat=True).distinct(),
                "implementation_code",
                referred_codes - file_codes,
            )
        )
        for candidate in candidates:
            if candidate.related_key is not None and candidate.related_key not in known_themes:
                _add(
                    candidate.problems,
                    "theme",
                    _("There is no theme %(slug)s in the file or in the database.") % {"slug": candidate.related_key},
                )
            if "item_codes" not in candidate.problems:
                _check_bundle_items(candidate, known_codes)
            self._plan_keyed("bundles", candidate)

    def _department_levels(self, usccs: set[str]) -> dict[str, int | None]:
        """Region level of every department the items name, as it will be after the import."""
        levels: dict[str, int | None] = {}
        for candidate in self.candidates["departments"]:
            if candidate.key and candidate.related_key:
                levels[candidate.key] = self.region_levels.get(candidate.related_key)
        rows = _lookup(Department.objects.values_list("uscc", "region__level"), "uscc", usccs - set(levels))
        levels.update(dict(rows))
        return levels

    def _check_items(self) -> None:
        rows = self.source.rows("items")
        if not rows:
            return
        dicts = [row.values for row in rows if isinstance(row.values, dict)]
        departments = self._department_levels({_text(values.get("department")) for values in dicts} - {""})
        file_themes = {candidate.key for candidate in self.candidates["themes"] if candidate.key}
        known_themes = file_themes | set(Theme.objects.values_list("slug", flat=True))
        codes = {_text(values.get("implementation_code")) for values in dicts} - {""}
        versions: dict[str, list[ServiceItem]] = {}
        locked = ServiceItem.objects.select_for_update().prefetch_related("themes").order_by("version")
        for item in _lookup(locked, "implementation_code", codes):
            versions.setdefault(item.implementation_code, []).append(item)
        first_row: dict[str, SourceRow] = {}
        for row in self.progress(rows, _("Checking service items")):
            problems: Problems = {}
            if not self._unknown_columns(row, ITEM_COLUMNS, problems):
                self._reject(row, problems)
                continue
            status = _text(row.values.get("status"))
            if status and status != ServiceItem.Status.PUBLISHED:
                if status in ServiceItem.Status.values:
                    self.counts["items"].skipped += 1
                    continue
                _add(problems, "status", _("Unknown status %(value)r.") % {"value": status})
            code = _text(row.values.get("implementation_code"))
            earlier = first_row.setdefault(code, row) if code else row
            if earlier is not row:
                _add(
                    problems,
                    "implementation_code",
                    _("The file has this entry more than once (also at %(where)s).") % {"where": earlier.where()},
                )
            plan = self._check_item(row, problems, departments, known_themes, versions)
            if problems:
                self._reject(row, problems)
            elif plan is not None:
                self.item_plans.append(plan)

    def _check_item(
        self,
        row: SourceRow,
        problems: Problems,
        departments: dict[str, int | None],
        known_themes: set[str],
        versions: dict[str, list[ServiceItem]],
    ) -> _ItemPlan | None:
        """Every check of one item row; its plan when it is to be written."""
        values = _clean(ServiceItem, row, ITEM_VALUE_FIELDS, problems)
        for name in OBJECT_FIELDS:
            if name not in problems and not isinstance(values[name], dict):
                _add(problems, name, _("Expected a JSON object."))
        uscc = _text(row.values.get("department"))
        level = values.get("exercise_level")
        if not uscc:
            _add(problems, "department", _("The implementing department's credit code is required."))
        else:
            try:
                validate_uscc(uscc)
            except ValidationError as error:
                for message in error.messages:
                    _add(problems, "department", message)
            else:
                if uscc not in departments:
                    _add(
                        problems,
                        "department",
                        _("There is no department with the credit code %(uscc)s in the file or in the database.")
                        % {"uscc": uscc},
                    )
                elif departments[uscc] is not None:
                    level = departments[uscc]
        theme_slugs = self._theme_slugs(row, problems, known_themes)
        # A stand-in department: the checks of the item need only its credit code and its region's level.
        department = Department(uscc=uscc, region=Region(level=level or 0))
        item = ServiceItem(**values)
        for name, messages in item_problems(item, department=department).items():
            if name in problems:
                continue  # the value was unreadable; what the item checks say of it would only confuse
            for message in messages:
                _add(problems, name, message)
        if problems:
            return None
        return self._plan_item(
            row, values, uscc, theme_slugs, versions.get(values["implementation_code"], []), problems
        )

    def _theme_slugs(self, row: SourceRow, problems: Problems, known_themes: set[str]) -> list[str]:
        raw = row.values.get("themes")
        if _is_empty(raw):
            return []
        if row.is_text:
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as error:
                _add(problems, "themes", _("This cell is not valid JSON: %(error)s") % {"error": error})
                return []
        if not isinstance(raw, list) or not all(isinstance(slug, str) for slug in raw):
            _add(problems, "themes", _("Expected a list of theme slugs."))
            return []
        unknown = [slug for slug in raw if slug not in known_themes]
        if unknown:
            _add(
                problems,
                "themes",
                _("There are no themes %(slugs)s in the file or in the database.") % {"slugs": ", ".join(unknown)},
            )
        return sorted(set(raw))

    def _plan_item(
        self,
        row: SourceRow,
        values: dict[str, Any],
        uscc: str,
        theme_slugs: list[str],
        versions: list[ServiceItem],
        problems: Problems,
    ) -> _ItemPlan | None:
        """What the import does with a valid item row: create it, make a new version, or nothing."""
        published = next((version for version in versions if version.is_published), None)
        open_version = next((version for version in versions if version.status in _OPEN_STATUSES), None)
        reference = open_version if open_version and open_version.status == ServiceItem.Status.SCHEDULED else published
        counts = self.counts["items"]
        if reference is not None and _same_content(reference, values, theme_slugs):
            counts.unchanged += 1
            return None
        if open_version is not None:
            _add(
                problems,
                "implementation_code",
                _(
                    "Version %(version)s of this item is %(status)s; publish it or send it back before importing "
                    "a change."
                )
                % {"version": open_version.version, "status": open_version.get_status_display()},
            )
            return None
        effective_from = values["effective_from"]
        if effective_from in {version.effective_from for version in versions}:
            effective_from = None  # the start of an earlier version, left as it was exported
        effective_from = effective_from or self.today
        last = versions[-1] if versions else None
        if published is not None and published.effective_from and effective_from <= published.effective_from:
            _add(
                problems,
                "effective_from",
                _("A new version must take effect after the version in force, which applies from %(date)s.")
                % {"date": published.effective_from.isoformat()},
            )
            return None
        if published is None and last is not None and last.effective_to and effective_from <= last.effective_to:
            _add(
                problems,
                "effective_from",
                _("A new version must take effect after the last version, which applied until %(date)s.")
                % {"date": last.effective_to.isoformat()},
            )
            return None
        if values["effective_to"] and values["effective_to"] < effective_from:
            _add(problems, "effective_to", _("The end date comes before the start date."))
            return None
        if versions:
            counts.updated += 1
        else:
            counts.created += 1
        return _ItemPlan(
            row=row,
            values=values,
            department_uscc=uscc,
            theme_slugs=theme_slugs,
            version=max((version.version for version in versions), default=0) + 1,
            effective_from=effective_from,
            previous=published,
        )

    # --- writes ---

    def write(self) -> None:
        self._write_regions()
        self._write_keyed("departments", self._related(Region, "code", "departments"))
        self._write_keyed("themes", {})
        self._write_items()
        self._write_keyed("bundles", self._related(Theme, "slug", "bundles"))
        self._write_keyed("synonyms", {})

    def _related(self, model: type[models.Model], key: str, section: str) -> dict[str, models.Model]:
        keys = {candidate.related_key for candidate in self.candidates[section] if candidate.related_key}
        return {getattr(obj, key): obj for obj in _lookup(model._default_manager.all(), key, keys)}

    def _write_regions(self) -> None:
        candidates = sorted(
            self.candidates["regions"], key=lambda candidate: (candidate.values["level"], candidate.key)
        )
        written: dict[str, models.Model] = self._related(Region, "code", "regions")
        for candidate in self.progress(candidates, _("Writing regions")):
            written[candidate.key] = self._write_one("regions", candidate, written)

    def _write_keyed(self, section: str, related: dict[str, models.Model]) -> None:
        description = _("Writing: %(section)s") % {"section": SECTION_LABELS[section]}
        for candidate in self.progress(self.candidates[section], description):
            obj = self._write_one(section, candidate, related)
            if candidate.existing is not None and candidate.changed:
                if section == "departments":
                    self.updated_department_ids.append(obj.pk)
                elif section == "themes":
                    self.updated_theme_ids.append(obj.pk)

    def _write_one(self, section: str, candidate: _Candidate, related: dict[str, models.Model]) -> models.Model:
        spec = KEYED[section]
        fields = dict(candidate.values)
        if spec.relation:
            fields[spec.relation] = related[candidate.related_key] if candidate.related_key else None
        if candidate.existing is None:
            return spec.model._default_manager.create(**fields)
        if candidate.changed:
            for name in candidate.changed:
                setattr(candidate.existing, name, fields[name])
            candidate.existing.save(update_fields=candidate.changed)
        return candidate.existing

    def _write_items(self) -> None:
        if not self.item_plans:
            return
        departments = Department.objects.in_bulk({plan.department_uscc for plan in self.item_plans}, field_name="uscc")
        themes = Theme.objects.in_bulk(
            {slug for plan in self.item_plans for slug in plan.theme_slugs}, field_name="slug"
        )
        for plan in self.progress(self.item_plans, _("Writing service items")):
            for_persons, for_enterprises = served_party_flags(list(plan.values["served_parties"]))
            note = plan.values["change_note"]
            if plan.previous is not None and note == plan.previous.change_note:
                note = ""  # the note of the version in force, left as it was exported
            item = ServiceItem.objects.create(
                **{
                    **plan.values,
                    "effective_from": plan.effective_from,
                    "change_note": note or self.note,
                },
                department=departments[plan.department_uscc],
                for_persons=for_persons,
                for_enterprises=for_enterprises,
                version=plan.version,
                status=ServiceItem.Status.SCHEDULED,
                edited_by=self.actor,
                approved_by=self.actor,
            )
            item.themes.set([themes[slug] for slug in plan.theme_slugs])
            if plan.effective_from <= self.today:
                version_publish(item, previous=plan.previous)
                self.published_ids.append(item.pk)
                if plan.previous is not None:
                    self.retired_ids.append(plan.previous.pk)

    def affected_item_ids(self) -> list[int]:
        """Published items whose department or theme the import renamed: their search entries change."""
        if not self.updated_department_ids and not self.updated_theme_ids:
            return []
        query = Q(department__in=self.updated_department_ids) | Q(themes__in=self.updated_theme_ids)
        return sorted(set(ServiceItem.objects.published().filter(query).values_list("pk", flat=True)))


def _check_bundle_items(candidate: _Candidate, known_codes: set[Any]) -> None:
    codes = candidate.values.get("item_codes")
    if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
        _add(candidate.problems, "item_codes", _("Expected a list of implementation codes."))
        return
    unknown = [code for code in codes if code not in known_codes]
    if unknown:
        _add(
            candidate.problems,
            "item_codes",
            _("No service item has these implementation codes: %(codes)s") % {"codes": ", ".join(unknown)},
        )


def _same_content(item: ServiceItem, values: dict[str, Any], theme_slugs: list[str]) -> bool:
    if any(getattr(item, name) != values[name] for name in CONTENT_FIELDS):
        return False
    return sorted(theme.slug for theme in item.themes.all()) == theme_slugs


def _position(row: SourceRow) -> int:
    return row.line if row.line is not None else (row.index or 0)
