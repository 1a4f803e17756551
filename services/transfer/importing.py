"""Import of the catalogue: every row checked first (``services.transfer.checks``), then all written in one
transaction, new versions published as every version is (``services.actions.version_publish``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from services.actions import catalogue_updated, version_publish
from services.models import Department, Region, ServiceItem, Theme
from services.transfer.checks import Candidate, Counts, ImportCheck, Rejection, lookup
from services.transfer.formats import KEYED, SECTION_LABELS, SECTIONS, CatalogueFile, Progress, no_progress
from services.validation import served_party_flags


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


class _Import(ImportCheck):
    """One import: the checks of every row (``ImportCheck``), then the writes they planned."""

    def __init__(
        self, source: CatalogueFile, *, actor: User | None, today: datetime.date, note: str, progress: Progress
    ) -> None:
        super().__init__(source, today=today, progress=progress)
        self.actor = actor
        self.note = note
        self.published_ids: list[int] = []
        self.retired_ids: list[int] = []
        self.updated_department_ids: list[int] = []
        self.updated_theme_ids: list[int] = []

    def write(self) -> None:
        self._write_regions()
        self._write_keyed("departments", self._related(Region, "code", "departments"))
        self._write_keyed("themes", {})
        self._write_items()
        self._write_keyed("bundles", self._related(Theme, "slug", "bundles"))
        self._write_keyed("synonyms", {})

    def _related(self, model: type[models.Model], key: str, section: str) -> dict[str, models.Model]:
        keys = {candidate.related_key for candidate in self.candidates[section] if candidate.related_key}
        return {getattr(obj, key): obj for obj in lookup(model._default_manager.all(), key, keys)}

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

    def _write_one(self, section: str, candidate: Candidate, related: dict[str, models.Model]) -> models.Model:
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
