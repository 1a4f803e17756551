"""The API keeps to its OpenAPI schema: generated requests, valid and not, get no 500 and answers the schema describes.

Schemathesis reads /api/schema/ and sends each operation a bounded number of
generated requests (a fixed seed: the same requests on every run), through
Django's WSGI handler in this process, so they see the test's database. Each is
sent signed out and signed in as the citizen (an app session token). The rate
limits are raised for the run; the answers it checks are the status codes, the
content types and the bodies that the schema declares (every operation's common
error answers are declared by core.api_schema).
"""

from __future__ import annotations

import json
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from approvals.models import Application
from tests.approvals.builders import make_applicable_item, ready_draft
from tests.datahub.builders import make_wang_household
from tests.factories import PASSWORD

# Examples per operation and generation mode: enough to reach every parameter, few enough for a minute's run.
MAX_EXAMPLES = 20
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class InTestHandler(WSGIHandler):
    """Django's WSGI handler as its test client runs it: a request does not close the database connection,
    which holds the test's transaction."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:  # type: ignore[override]
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = super().__call__(environ, start_response)
            body = b"".join(response)
            response.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return [body]


def load_schema() -> Any:
    """The schema as /api/schema/ serves it, for requests through Django's WSGI handler."""
    document = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = InTestHandler()
    loaded.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=MAX_EXAMPLES,
        deterministic=True,
        database="none",
    )
    return loaded


schema = load_schema()


@pytest.fixture
def portal(db: None, monkeypatch: pytest.MonkeyPatch, citizen: User, department: Any) -> None:
    """Rate limits raised for the run, and a citizen's draft in the database."""
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/minute", "user": "100000/minute"})
    make_wang_household()
    ready_draft(citizen, make_applicable_item(department=department))


@pytest.fixture
def session_token(citizen: User) -> str:
    """An app session of the citizen's, as the mobile app gets it from allauth's headless login."""
    response = Client().post(
        "/_allauth/app/v1/auth/login",
        {"email": citizen.email, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return str(response.json()["meta"]["session_token"])


@schema.parametrize()
# The fixtures make the data once per operation; every example reads it and changes nothing that the next one needs.
@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
def test_the_api_answers_as_its_schema_says(case: Any, portal: None, session_token: str) -> None:
    case.call_and_validate(checks=CHECKS)
    case.call_and_validate(checks=CHECKS, headers={"X-Session-Token": session_token})


def test_the_root_region_has_a_null_parent_and_the_schema_allows_it(db: None) -> None:
    from services.models import Region

    Region.objects.create(code="100000000000", name="中华人民共和国", level=1, parent=None)
    client = Client()

    regions = client.get("/api/v1/regions/?level=1").json()["results"]
    schema = client.get("/api/schema/?format=json").json()

    assert regions == [{"code": "100000000000", "name": "中华人民共和国", "level": 1, "parent": None}]
    assert schema["components"]["schemas"]["Region"]["properties"]["parent"]["nullable"] is True
    assert Application.objects.count() == 0


def test_every_operation_declares_the_common_error_answers(db: None) -> None:
    paths = Client().get("/api/schema/?format=json").json()["paths"]

    operations = [
        (path, method, operation)
        for path, methods in paths.items()
        if path.startswith("/api/v1/")
        for method, operation in methods.items()
    ]

    assert len(operations) > 20
    for path, method, operation in operations:
        for status in ("400", "403", "404", "413", "415", "429"):
            assert status in operation["responses"], (path, method, status)
    limited = paths["/api/v1/track/"]["post"]["responses"]["429"]["content"]["application/json"]["schema"]
    assert limited == {"$ref": "#/components/schemas/Error"}
    assert paths["/api/v1/regions/"]["get"]["responses"]["429"]["content"]["application/json"]["schema"] == limited
