"""The catalogue's file formats: the sections, columns and keys of a file, and reading one into rows."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from services.actions import EDITABLE_FIELDS
from services.models import Bundle, Department, Region, Synonym, Theme

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
        Department,
        "uscc",
        ("name", "short_name", "document_code", "kind", "phone", "address", "description"),
        "region",
        "regions",
    ),
    "themes": _Keyed(Theme, "slug", ("name", "audience", "description", "position")),
    "bundles": _Keyed(
        Bundle,
        "slug",
        ("name", "audience", "description", "item_codes", "depends_on", "founding_item_code", "is_active"),
        "theme",
        "themes",
    ),
    "synonyms": _Keyed(Synonym, "term", ("expansions",)),
}


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
                values = WrongLength(len(cells), len(header))
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
class WrongLength:
    cells: int
    expected: int
