"""ID numbers in an application's answers, shown whole only to whom they may be (DESIGN §7).

An enterprise's application is seen by its legal representative and every agent
authorised for it; the answers hold the identity of whoever drafted it (the
prefill puts the drafter's own ID number in ``applicant_id_number``). A number is
shown whole to its owner and to the applicant who gave the answers; every other
viewer sees it masked (``datahub.identity.mask_id``). Staff handling the
application read it whole on the workbench, where each view is logged.
"""

from __future__ import annotations

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


def _id_number_fields(form_ui: dict[str, Any]) -> tuple[set[str], dict[str, set[str]]]:
    """The form's ID number fields, and for each repeat its ID number columns."""
    fields: dict[str, Any] = form_ui.get("fields") or {}
    top = {code for code, ui in fields.items() if isinstance(ui, dict) and ui.get("widget") == ID_NUMBER_WIDGET}
    columns = {
        code: {
            column
            for column, column_ui in (ui.get("item_fields") or {}).items()
            if isinstance(column_ui, dict) and column_ui.get("widget") == ID_NUMBER_WIDGET
        }
        for code, ui in fields.items()
        if isinstance(ui, dict) and ui.get("widget") == "repeat"
    }
    return top, {code: found for code, found in columns.items() if found}


def _shown(value: Any, viewer: User) -> Any:
    if isinstance(value, str) and not is_own_id_number(viewer, value):
        return mask_id(value)
    return value


def answers_for_viewer(application: Application, viewer: User) -> dict[str, Any]:
    """The answers as this viewer may read them: others' ID numbers masked, unless the viewer is the applicant."""
    data = dict(application.data or {})
    if viewer.pk == application.applicant_id:
        return data
    top, columns = _id_number_fields(application.service.form_ui)
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
