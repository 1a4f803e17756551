"""What every /api/v1/ endpoint says the same way: a department's shape, the deadlines' meaning, the docs page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from approvals.applications.api import ApplicationSummarySerializer, TrackResultSerializer
from approvals.workbench.api import TaskSerializer


def _schema() -> dict[str, Any]:
    return Client().get("/api/schema/?format=json").json()


def _references(node: Any) -> set[str]:
    """Every component name a piece of the schema refers to."""
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[1]} if "$ref" in node else set()
        for value in node.values():
            found |= _references(value)
        return found
    if isinstance(node, list):
        return set().union(*(_references(value) for value in node)) if node else set()
    return set()


def test_every_department_an_object_names_is_one_component_of_code_and_name(db: None) -> None:
    components = _schema()["components"]["schemas"]

    naming = {
        name
        for name, component in components.items()
        for field, value in component.get("properties", {}).items()
        if field == "department" and "DepartmentReference" in _references(value)
    }

    assert components["DepartmentReference"]["properties"].keys() == {"code", "name"}
    assert {
        "ApplicationSummary",
        "ApplicationDetail",
        "ApplicationTask",
        "TrackResult",
        "Task",
        "BundleItem",
        "Power",
    } <= naming
    # no second shape of a department (the workbench's and the task's own were {code, name} under other names)
    assert not [
        name
        for name, component in components.items()
        if name != "DepartmentReference"
        and set(component.get("properties", {})) == {"code", "name"}
        and "Department" in name
    ]


def test_the_serializers_write_a_department_as_code_and_name(department: Any) -> None:
    written = TaskSerializer().fields["department"].to_representation(department)

    assert written == {"code": department.uscc, "name": department.name}
    assert ApplicationSummarySerializer().fields["department"].to_representation(department) == written
    assert TrackResultSerializer().fields["department"].to_representation(department) == written


def test_the_schema_says_when_the_due_dates_are_set(db: None) -> None:
    components = _schema()["components"]["schemas"]

    for name in ("ApplicationSummary", "ApplicationDetail", "TrackResult"):
        description = components[name]["properties"]["due_date"]["description"]
        assert "Null while a draft and after submission until a department accepts (受理)" in description
    legal = components["ApplicationDetail"]["properties"]["legal_due_date"]["description"]
    assert "set on acceptance (受理)" in legal
    assert "null before acceptance and for items without a legal limit" in legal


def test_the_docs_page_holds_no_inline_style_or_script(client: Client) -> None:
    response = client.get("/api/docs/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "style-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<style" not in page
    assert " style=" not in page
    assert page.count("<script") == page.count("<script src=") == 3
    assert '<link rel="stylesheet" href="/static/css/api-docs.css">' in page


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/bundles/",
        "/api/v1/bundle-applications/",
        "/api/v1/power-list/",
        "/api/v1/enterprises/",
        "/api/v1/me/real-name/",
    ],
)
def test_the_endpoints_for_the_apps_are_throttled_like_the_others(
    citizen: Any, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/minute", "user": "2/minute"})
    client = APIClient()
    client.force_login(citizen)

    answers = [client.get(url) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[-1].json()["code"] == "throttled"
    assert answers[-1]["Retry-After"]


def test_a_path_with_a_line_break_gets_the_api_s_404_body(db: None) -> None:
    answer = APIClient().post("/api/v1/messages/a%0Ab/read/", {}, format="json")

    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["code"] == "not_found"
