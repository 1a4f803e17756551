"""The applications API tests' fixtures: an item to apply for, and API clients of two citizens."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.approvals.builders import make_applicable_item
from tests.datahub.builders import make_wang_household


@pytest.fixture
def item(department):
    """The residence certificate service of 杭州市市场监督管理局, with 王小明's household in the population registry."""
    make_wang_household()
    return make_applicable_item(department=department)


@pytest.fixture
def citizen_api(citizen) -> APIClient:
    client = APIClient()
    client.force_login(citizen)
    return client


@pytest.fixture
def other_api(other_citizen) -> APIClient:
    client = APIClient()
    client.force_login(other_citizen)
    return client
