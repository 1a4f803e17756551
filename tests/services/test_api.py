"""The catalogue API: lists with cursors, the guide with its form schema, errors in one shape."""

import pytest

from tests.services.factories import DepartmentFactory, ServiceItemFactory, ThemeFactory, region

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.fixture
def items():
    hangzhou = region("330100000000", "杭州市")
    region("330106000000", "西湖区")
    department = DepartmentFactory.create(region=hangzhou, name="杭州市民政局", kind="civil_affairs")
    theme = ThemeFactory.create(slug="marriage", name="婚育收养")
    schema = {"type": "object", "properties": {"name": {"type": "string", "title": "姓名"}}, "required": ["name"]}
    created = ServiceItemFactory.create_batch(25, department=department, themes=[theme])
    guide = ServiceItemFactory.create(
        department=department,
        name="结婚登记",
        themes=[theme],
        form_schema=schema,
        form_ui={"steps": [{"title": {"zh": "申请人", "en": "Applicant"}, "fields": ["name"]}]},
        workflow={"stages": [{"key": "accept", "tasks": [{"key": "accept", "name": "受理"}]}]},
    )
    return [*created, guide]


def test_services_list_is_cursor_paginated_in_code_order(client, items):
    first = client.get("/api/v1/services/").json()
    assert set(first) == {"results", "next", "previous"}
    assert len(first["results"]) == 20
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 6
    assert second["next"] is None
    codes = [item["implementation_code"] for item in first["results"] + second["results"]]
    assert codes == sorted(item.implementation_code for item in items)


def test_services_list_takes_the_page_filters(client, items):
    assert client.get("/api/v1/services/?audience=enterprise").json()["results"] == []
    region_results = client.get("/api/v1/services/?region=330106000000").json()["results"]
    assert len(region_results) == 20  # a county of 杭州 sees the city's items


def test_service_guide_has_the_form_schema_materials_and_workflow(client, items):
    guide = items[-1]
    body = client.get(f"/api/v1/services/{guide.implementation_code}/").json()
    assert body["name"] == "结婚登记"
    assert body["form_schema"]["required"] == ["name"]
    assert body["form_ui"]["steps"][0]["title"]["en"] == "Applicant"
    assert [material["code"] for material in body["materials"]] == ["id-card"]
    assert body["workflow_summary"] == [{"key": "accept", "parallel": False, "tasks": ["受理"]}]
    assert body["themes"] == ["marriage"]


def test_unknown_service_gives_the_error_body(client, items):
    response = client.get("/api/v1/services/" + "1" * 31 + "/")
    assert response.status_code == 404
    assert set(response.json()) == {"code", "message", "fields"}
    assert response.json()["code"] == "not_found"


def test_regions_departments_and_themes(client, items):
    regions = client.get("/api/v1/regions/?level=3").json()["results"]
    assert regions == [{"code": "330100000000", "name": "杭州市", "level": 3, "parent": "330000000000"}]
    departments = client.get("/api/v1/departments/?region=330100000000").json()["results"]
    assert [department["name"] for department in departments] == ["杭州市民政局"]
    themes = client.get("/api/v1/themes/").json()["results"]
    assert [theme["slug"] for theme in themes] == ["marriage"]


def test_the_openapi_schema_describes_the_catalogue(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/services/", "/api/v1/services/{code}/", "/api/v1/regions/", "/api/v1/departments/"} <= set(paths)
    assert client.get("/api/docs/").status_code == 200
