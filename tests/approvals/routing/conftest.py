"""The routing tests' fixtures: a pinned clock, uploads kept in a temporary folder, routing promises kept unsent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone, translation

from accounts.models import StaffRole
from approvals import outbox
from services.models import Department, DepartmentKind, ServiceItem
from tests.approvals.builders import (
    STANDARD_WORKFLOW,
    make_county,
)
from tests.approvals.routing.helpers import (
    Clock,
    Joint,
    item_with,
    ten_am,
)
from tests.factories import staff_member
from tests.services.builders import make_department, make_region


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    pinned = Clock(ten_am(3, 9))  # a Monday
    monkeypatch.setattr(timezone, "now", lambda: pinned.now)
    return pinned


@pytest.fixture(autouse=True)
def upload_root(settings: Any, tmp_path: Path) -> Path:
    settings.UPLOAD_ROOT = tmp_path / "uploads"
    settings.UPLOAD_SCANNER = "approvals.uploads.NoScanner"
    return settings.UPLOAD_ROOT


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def department(db: None) -> Department:
    """The implementing department: the city's 行政审批局 (a kind no workflow here names)."""
    return make_department(serial=1, kind=DepartmentKind.ADMINISTRATIVE_SERVICE, name="杭州市行政审批局")


@pytest.fixture
def unsent(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Routing promises are kept in their rows only: nothing goes to the broker (the tests process the rows)."""
    sent: list[int] = []
    monkeypatch.setattr(outbox, "outbox_send", sent.append)
    return sent


@pytest.fixture
def item(department: Department) -> ServiceItem:
    return item_with(department, STANDARD_WORKFLOW)


@pytest.fixture
def joint(department: Department) -> Joint:
    county, city = make_county(), make_region()
    police = make_department(
        serial=2, kind=DepartmentKind.PUBLIC_SECURITY, region=county, name="杭州市公安局西湖区分局"
    )
    market = make_department(serial=3, kind=DepartmentKind.MARKET_REGULATION, region=county, name="西湖区市场监管局")
    housing = make_department(serial=4, kind=DepartmentKind.HOUSING, region=city, name="杭州市住房保障和房产管理局")
    # The same kinds at the other level: the rules must not pick them.
    make_department(serial=5, kind=DepartmentKind.PUBLIC_SECURITY, region=city, name="杭州市公安局")
    make_department(serial=6, kind=DepartmentKind.HOUSING, region=county, name="西湖区住房和城乡建设局")
    clerks = {
        key: staff_member(f"{key}-clerk@example.com", each, StaffRole.CLERK)
        for key, each in (("police", police), ("market", market), ("housing", housing))
    }
    return Joint(police=police, market=market, housing=housing, clerks=clerks)
