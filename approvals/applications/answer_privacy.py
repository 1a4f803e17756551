"""ID numbers in an application's answers, shown whole only to whom they may be (DESIGN §7).

An enterprise's application is seen by its legal representative and every agent
authorised for it; the answers hold the identity of whoever drafted it (the
prefill puts the drafter's own ID number in ``applicant_id_number``). A number is
shown whole to its owner and to the applicant who gave the answers; every other
viewer sees it masked (``datahub.identity.mask_id``). Staff handling the
application read it whole on the workbench, where each view is logged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from accounts.models import User
from approvals.models import Application
from core import crypto
from datahub.identity import mask_id
from datahub.models import ID_NUMBER_HASH_PURPOSE

ID_NUMBER_WIDGET = "id_number"


def is_own_id_number(user: User, number: str) -> bool:
    """Whether this ID number is the one the user proved as their own (compared by its keyed hash)."""
    if not user.id_number_hash or not number:
        return False
    return user.id_number_hash in crypto.keyed_hashes(number, purpose=ID_NUMBER_HASH_PURPOSE)


def _id_number_fields(form_uis: Iterable[dict[str, Any]]) -> tuple[set[str], dict[str, set[str]]]:
    """The ID number fields of these forms, and for each repeat its ID number columns."""
    top: set[str] = set()
    columns: dict[str, set[str]] = {}
    for form_ui in form_uis:
        for code, ui in (form_ui.get("fields") or {}).items():
            if not isinstance(ui, dict):
                continue
            if ui.get("widget") == ID_NUMBER_WIDGET:
                top.add(code)
            for column, column_ui in (ui.get("item_fields") or {}).items():
                if isinstance(column_ui, dict) and column_ui.get("widget") == ID_NUMBER_WIDGET:
                    columns.setdefault(code, set()).add(column)
    return top, columns


def _shown(value: Any, viewer: User) -> Any:
    if isinstance(value, str) and not is_own_id_number(viewer, value):
        return mask_id(value)
    return value


def masked_for_viewer(
    data: dict[str, Any], *, form_uis: Iterable[dict[str, Any]], applicant_id: int | None, viewer: User
) -> dict[str, Any]:
    """Answers of these forms as this viewer may read them: others' ID numbers masked, unless the viewer applies."""
    data = dict(data or {})
    if viewer.pk == applicant_id:
        return data
    top, columns = _id_number_fields(form_uis)
    for code in top & set(data):
        data[code] = _shown(data[code], viewer)
    for code, wanted in columns.items():
        rows = data.get(code)
        if isinstance(rows, list):
            data[code] = [
                {column: _shown(value, viewer) if column in wanted else value for column, value in row.items()}
                if isinstance(row, dict)
                else row
                for row in rows
            ]
    return data


def answers_for_viewer(application: Application, viewer: User) -> dict[str, Any]:
    """One application's answers as this viewer may read them (``masked_for_viewer``)."""
    return masked_for_viewer(
        application.data, form_uis=[application.service.form_ui], applicant_id=application.applicant_id, viewer=viewer
    )


def unmasked(posted: dict[str, Any], *, stored: dict[str, Any], shown: dict[str, Any]) -> dict[str, Any]:
    """A posted step with each masked number sent back unchanged replaced by the stored one it stands for.

    ``shown`` is what the step showed (``masked_for_viewer`` of ``stored``): an agent who saves a step of
    the enterprise's draft without retyping the representative's number keeps that number.
    """
    result = dict(posted)
    for code, value in posted.items():
        if code not in stored or shown.get(code) == stored[code]:
            continue
        if value == shown.get(code):
            result[code] = stored[code]
        elif isinstance(value, list) and isinstance(stored[code], list) and isinstance(shown.get(code), list):
            result[code] = [
                _unmasked_row(row, stored[code][index], shown[code][index])
                if index < min(len(stored[code]), len(shown[code]))
                else row
                for index, row in enumerate(value)
            ]
    return result


def _unmasked_row(row: Any, stored: Any, shown: Any) -> Any:
    if not (isinstance(row, dict) and isinstance(stored, dict) and isinstance(shown, dict)):
        return row
    return {
        column: stored[column]
        if column in stored and shown.get(column) != stored[column] and value == shown.get(column)
        else value
        for column, value in row.items()
    }


def kept_masked(values: dict[str, Any], *, stored: dict[str, Any], shown: dict[str, Any]) -> dict[str, Any]:
    """A step's values to show again (after an error): an answer still the stored one is shown as ``shown`` is."""
    return {code: shown[code] if code in stored and value == stored[code] else value for code, value in values.items()}
