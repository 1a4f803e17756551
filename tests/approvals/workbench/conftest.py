"""The workbench page tests' fixtures: uploads in a temporary folder, an item to route."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.models import Department, ServiceItem
from tests.approvals.builders import make_applicable_item
from tests.datahub.builders import make_wang_household


@pytest.fixture(autouse=True)
def upload_root(settings: Any, tmp_path: Path) -> Path:
    settings.UPLOAD_ROOT = tmp_path / "uploads"
    settings.UPLOAD_SCANNER = "approvals.uploads.NoScanner"
    return settings.UPLOAD_ROOT


@pytest.fixture
def item(department: Department) -> ServiceItem:
    make_wang_household()
    return make_applicable_item(department=department)
