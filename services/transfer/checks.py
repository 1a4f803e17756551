"""The checks of an import: every row against its model's field rules, the rest of the file and the database.

Nothing is written here; what a valid row would do is planned (``Candidate``, ``ItemPlan``) for the import to write.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from services.codes import RegionLevel, region_level_of, validate_uscc
from services.models import Department, Region, ServiceItem, Theme
from services.transfer.formats import (
    CONTENT_FIELDS,
    ITEM_COLUMNS,
    ITEM_VALUE_FIELDS,
    KEYED,
    OBJECT_FIELDS,
    SECTIONS,
    CatalogueFile,
    Progress,
    SourceRow,
    WrongLength,
)
from services.validation import Problems, bundle_order_problems, item_problems

_OPEN_STATUSES = (ServiceItem.Status.DRAFT, ServiceItem.Status.IN_REVIEW, ServiceItem.Status.SCHEDULED)
_LOOKUP_CHUNK = 2000


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
class Candidate:
    """A row of a keyed section after its own checks, before those that need other rows."""

    row: SourceRow
    key: str
    values: dict[str, Any]
    related_key: str | None
    problems: Problems
    existing: models.Model | None = None
    changed: list[str] = field(default_factory=list)


@dataclass
class ItemPlan:
    row: SourceRow
    values: dict[str, Any]
    department_uscc: str
    theme_slugs: list[str]
    version: int
    effective_from: datetime.date
    previous: ServiceItem | None  # the published version this one takes over from


def lookup(queryset: models.QuerySet[Any], field_name: str, keys: Iterable[str]) -> list[Any]:
    keys = sorted(set(keys))
    found: list[Any] = []
    for start in range(0, len(keys), _LOOKUP_CHUNK):
        found.extend(queryset.filter(**{f"{field_name}__in": keys[start : start + _LOOKUP_CHUNK]}))
    return found


class ImportCheck:
    """The checks of every row of one import against the file and the database, and the plan of its writes."""

    def __init__(self, source: CatalogueFile, *, today: datetime.date, progress: Progress) -> None:
        self.source = source
        self.today = today
        self.progress = progress
        self.rejections: list[Rejection] = []
        self.counts = {section: Counts() for section in SECTIONS if source.rows(section)}
        self.candidates: dict[str, list[Candidate]] = {}
        self.region_levels: dict[str, int | None] = {}  # every region named or referred to, after the import
        self.item_plans: list[ItemPlan] = []

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
        if isinstance(row.values, WrongLength):
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

    def _clean_keyed(self, section: str, row: SourceRow) -> Candidate:
        spec = KEYED[section]
        problems: Problems = {}
        if not self._unknown_columns(row, spec.columns, problems):
            return Candidate(row, "", {}, None, problems)
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
        return Candidate(row, key, values, related_key, problems)

    def _mark_duplicates(self, candidates: list[Candidate]) -> None:
        first: dict[str, Candidate] = {}
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
        existing = {getattr(obj, spec.key): obj for obj in lookup(queryset, spec.key, keys)}
        for candidate in self.candidates[section]:
            candidate.existing = existing.get(candidate.key)

    def _plan_keyed(self, section: str, candidate: Candidate) -> None:
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

    def _count_keyed(self, section: str, candidate: Candidate) -> None:
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
        for code, level in lookup(Region.objects.values_list("code", "level"), "code", referred):
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

    def _check_one_kind_per_region(self, candidates: list[Candidate]) -> None:
        """The departments after the import may not have two of one kind in one region."""
        in_file = [candidate for candidate in candidates if candidate.key and candidate.related_key]
        regions = {candidate.related_key for candidate in in_file}
        final: dict[str, tuple[str | None, str, str]] = {
            uscc: (region_code, kind, name)
            for uscc, region_code, kind, name in lookup(
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
            lookup(Theme.objects.values_list("slug", flat=True), "slug", referred_themes - file_themes)
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
            lookup(
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
            if not {"item_codes", "depends_on", "founding_item_code"} & set(candidate.problems):
                for name, messages in bundle_order_problems(
                    candidate.values["item_codes"],
                    candidate.values["depends_on"],
                    candidate.values["founding_item_code"],
                ).items():
                    for message in messages:
                        _add(candidate.problems, name, message)
            self._plan_keyed("bundles", candidate)

    def _department_levels(self, usccs: set[str]) -> dict[str, int | None]:
        """Region level of every department the items name, as it will be after the import."""
        levels: dict[str, int | None] = {}
        for candidate in self.candidates["departments"]:
            if candidate.key and candidate.related_key:
                levels[candidate.key] = self.region_levels.get(candidate.related_key)
        rows = lookup(Department.objects.values_list("uscc", "region__level"), "uscc", usccs - set(levels))
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
        for item in lookup(locked, "implementation_code", codes):
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
    ) -> ItemPlan | None:
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
    ) -> ItemPlan | None:
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
        return ItemPlan(
            row=row,
            values=values,
            department_uscc=uscc,
            theme_slugs=theme_slugs,
            version=max((version.version for version in versions), default=0) + 1,
            effective_from=effective_from,
            previous=published,
        )


def _check_bundle_items(candidate: Candidate, known_codes: set[Any]) -> None:
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
