"""The applications API tests' fixtures: API clients of two citizens (``item`` is tests/conftest.py's)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient


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
