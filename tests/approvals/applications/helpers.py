"""What the tests of the applications' actions share."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

from accounts.models import Enterprise, User
from approvals.applications import actions, submission
from approvals.models import (
    Application,
    ApplicationEvent,
)
from demo.catalogue_data.fields import form
from demo.registry_data import WANG_XIAOMING
from services.models import Department, ServiceItem
from tests.approvals.builders import (
    COUNTY_CODE,
    FORM_FIELDS,
    pdf_upload,
)

# 16:00:05 UTC on 9 March is already 00:00:05 on 10 March in Shanghai.
AFTER_MIDNIGHT_IN_SHANGHAI = datetime.datetime(2026, 3, 9, 16, 0, 5, tzinfo=datetime.UTC)


SHANGHAI_DAY = datetime.date(2026, 3, 10)


PREFILLED = {
    "applicant_name": "王小明",
    "applicant_id_number": "330106198805120314",
    "gender": "male",
    "household_address": {"region": COUNTY_CODE, "detail": WANG_XIAOMING.address},
}


NOTE = "请补充申请事由，并重新上传近期证件照片。"


def start(user: User, item: ServiceItem, *, acting_for: Enterprise | None = None) -> Application:
    return actions.application_draft_start(user=user, service_code=item.implementation_code, acting_for=acting_for)


def row(application: Application) -> dict[str, Any]:
    """Every column of the application as stored now."""
    return dict(Application.objects.filter(pk=application.pk).values().get())


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def events_of(application: Application) -> list[str]:
    return list(
        ApplicationEvent.objects.filter(application=application).order_by("at", "pk").values_list("action", flat=True)
    )


DRAFT_ACTIONS: dict[str, Callable[[Application, User], Any]] = {
    "update": lambda draft, user: actions.application_draft_update(
        application_id=draft.pk, user=user, data={"reason": "别人的事由"}
    ),
    "upload": lambda draft, user: actions.attachment_add(
        application_id=draft.pk, user=user, upload=pdf_upload(), material_code="photo"
    ),
    "remove file": lambda draft, user: actions.attachment_remove(
        application_id=draft.pk, user=user, attachment_public_id=str(draft.attachments.get().public_id)
    ),
    "submit": lambda draft, user: submission.application_submit(application_id=draft.pk, user=user),
    "delete": lambda draft, user: actions.application_draft_delete(application_id=draft.pk, user=user),
}


SUBMITTED_ACTIONS: dict[str, Callable[[Application, User], Any]] = {
    "withdraw": lambda application, user: submission.application_withdraw(application_id=application.pk, user=user),
    "supplement": lambda application, user: submission.application_supplement(
        application_id=application.pk, user=user, data={"reason": "别人的事由"}
    ),
}


def request_supplement(application: Application, clerk: User, department: Department) -> Application:
    return submission.application_request_supplement(
        application_id=application.pk,
        actor=clerk,
        department_id=department.pk,
        fields=["reason"],
        materials=["photo"],
        note=NOTE,
    )


def version_2_changes() -> dict[str, Any]:
    """申请事由 becomes 事实与理由, and the result is no longer delivered electronically."""
    codes = tuple("case_summary" if code == "reason" else code for code in FORM_FIELDS)
    schema, ui = form("测试申请表", codes, optional=("postal_address",))
    schema["properties"]["delivery"]["enum"] = ["post", "counter"]
    ui["fields"]["delivery"]["options"] = [
        option for option in ui["fields"]["delivery"]["options"] if option["value"] != "electronic"
    ]
    return {"form_schema": schema, "form_ui": ui, "change_note": "申请事由改为事实与理由；不再提供电子证照送达。"}
