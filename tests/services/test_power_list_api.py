"""权力清单 over the API: the powers the power-list page lists, filtered as it is, in the API's error body."""

from __future__ import annotations

import pytest

from services.models import ServiceItem
from tests.services.factories import DepartmentFactory, ServiceItemFactory, region

pytestmark = [pytest.mark.django_db]

POWERS = "/api/v1/power-list/"


@pytest.fixture
def catalogue() -> dict[str, ServiceItem]:
    hangzhou = region("330100000000", "杭州市")
    civil = DepartmentFactory.create(region=hangzhou, name="杭州市民政局")
    market = DepartmentFactory.create(region=hangzhou, name="杭州市市场监督管理局")
    return {
        "licence": ServiceItemFactory.create(department=market, name="食品经营许可", legal_basis="《食品安全法》"),
        "penalty": ServiceItemFactory.create(department=market, name="罚款", item_type="02"),
        "civil": ServiceItemFactory.create(department=civil, name="婚姻登记", item_type="07"),
        "service": ServiceItemFactory.create(department=civil, name="婚育咨询", item_type="20"),
        "draft": ServiceItemFactory.create(department=civil, name="草稿许可", status=ServiceItem.Status.DRAFT),
    }


def test_the_published_powers_are_listed_without_public_services_or_drafts(client, catalogue):
    answer = client.get(POWERS)

    names = {entry["name"] for entry in answer.json()["results"]}
    assert answer.status_code == 200
    assert names == {"食品经营许可", "罚款", "婚姻登记"}
    licence = next(entry for entry in answer.json()["results"] if entry["name"] == "食品经营许可")
    item = catalogue["licence"]
    assert licence == {
        "implementation_code": item.implementation_code,
        "basic_code": item.basic_code,
        "name": "食品经营许可",
        "item_type": "01",
        "item_type_display": "行政许可",
        "department": {"code": item.department.uscc, "name": "杭州市市场监督管理局"},
        "region": "330100000000",
        "region_name": "杭州市",
        "legal_basis": "《食品安全法》",
        "legal_limit": 20,
        "legal_limit_unit": item.legal_limit_unit,
        "version": 1,
    }


def test_the_list_is_filtered_by_department_and_type_as_the_page(client, catalogue):
    market = catalogue["licence"].department.uscc

    by_department = client.get(POWERS, {"department": market}).json()["results"]
    by_type = client.get(POWERS, {"item_type": "07"}).json()["results"]
    both = client.get(POWERS, {"department": market, "item_type": "02"}).json()["results"]

    assert {entry["name"] for entry in by_department} == {"食品经营许可", "罚款"}
    assert [entry["name"] for entry in by_type] == ["婚姻登记"]
    assert [entry["name"] for entry in both] == ["罚款"]


@pytest.mark.parametrize(
    ("query", "field"),
    [({"item_type": "20"}, "item_type"), ({"item_type": "99"}, "item_type"), ({"department": "x"}, "department")],
)
def test_a_bad_filter_is_a_400_naming_it_in_chinese(client, catalogue, query, field):
    answer = client.get(POWERS, query)

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
    assert list(answer.json()["fields"]) == [field]
    if query == {"item_type": "20"}:
        assert answer.json()["fields"]["item_type"] == ["公共服务事项不在权力清单内。"]


def test_the_power_list_is_in_the_schema(client):
    operation = client.get("/api/schema/?format=json").json()["paths"][POWERS]["get"]

    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert {"department", "item_type", "region", "cursor", "page_size"} <= set(parameters)
    assert "20" not in parameters["item_type"]["schema"]["enum"]
