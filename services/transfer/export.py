"""Export of the catalogue: every section as rows of a JSON document, or the service items as CSV."""

from __future__ import annotations

import csv
import datetime
import io
import json
from typing import Any, cast

from services.models import ServiceItem
from services.transfer.formats import (
    FORMAT_NAME,
    FORMAT_VERSION,
    ITEM_COLUMNS,
    ITEM_VALUE_FIELDS,
    JSON_COLUMNS,
    KEYED,
    SECTIONS,
)


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
