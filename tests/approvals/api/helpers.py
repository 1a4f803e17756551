"""What the applications API tests share."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from rest_framework.test import APIClient

from approvals.models import Application
from demo.registry_data import WANG_XIAOMING
from tests.approvals.builders import pdf_upload

APPLICATIONS = "/api/v1/applications/"


TRACK = "/api/v1/track/"


# What the population registry knows of 王小明, and the draft is filled with.
WANG_ANSWERS = {
    "applicant_name": "王小明",
    "applicant_id_number": WANG_XIAOMING.id_number,
    "gender": "male",
    "household_address": {"region": "330106000000", "detail": WANG_XIAOMING.address},
}


WANG_SOURCES = dict.fromkeys(WANG_ANSWERS, "population")


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


NOT_AUTHENTICATED = {"code": "not_authenticated", "message": "身份认证信息未提供。", "fields": {}}


def url(application: Application, action: str = "") -> str:
    return f"{APPLICATIONS}{application.public_id}/" + (f"{action}/" if action else "")


def local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).isoformat()


def submit(client: APIClient, application: Application, key: str = "key-1", body: Any = None, **extra: Any) -> Any:
    return client.post(url(application, "submit"), body or {}, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


ENDPOINTS = [
    # method, action, body, format, owner's status on a ready draft
    ("get", "", None, None, 200),
    ("patch", "", {"data": {"phone": "13800001111"}}, "json", 200),
    ("post", "attachments", "file", "multipart", 201),
    ("post", "submit", {}, "json", 200),
    ("post", "withdraw", {}, "json", 409),  # a draft is not withdrawn: it is deleted
    ("post", "supplement", {"data": {"phone": "13800001111"}}, "json", 409),
]


def call_endpoint(client: APIClient, application: Application, method: str, action: str, body: Any, format: str | None):
    if body == "file":
        body = {"material": "proxy", "file": pdf_upload()}
    return getattr(client, method)(url(application, action), body, format=format, HTTP_IDEMPOTENCY_KEY="matrix")


def track_number(client: APIClient, number: str, password: str, **extra: Any) -> Any:
    return client.post(TRACK, {"number": number, "password": password}, format="json", **extra)
