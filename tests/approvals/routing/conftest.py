"""The routing tests' fixtures: the implementing department, its item, the joint departments.

Every test here runs on the pinned clock of tests/approvals/conftest.py, with its uploads in its own folder, in
English.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from services.models import Department, DepartmentKind, ServiceItem
from tests.approvals.builders import STANDARD_WORKFLOW, JointDepartments, make_joint_departments
from tests.approvals.helpers import Clock, item_with
from tests.services.builders import make_department


@pytest.fixture(autouse=True)
def _common_setting(clock: Clock, upload_root: Path, english: None) -> None:
    """Every routing test: the pinned clock, its uploads in its own folder, English."""


@pytest.fixture
def department(db: None) -> Department:
    """The implementing department: the city's 行政审批局 (a kind no workflow here names)."""
    return make_department(serial=1, kind=DepartmentKind.ADMINISTRATIVE_SERVICE, name="杭州市行政审批局")


@pytest.fixture
def item(department: Department) -> ServiceItem:
    """Not the shared ``item``: promised in 8 working days, which the due dates here count on."""
    return item_with(department, STANDARD_WORKFLOW)


@pytest.fixture
def joint(department: Department) -> JointDepartments:
    """The departments the kind rules pick, made after the implementing department."""
    return make_joint_departments()
