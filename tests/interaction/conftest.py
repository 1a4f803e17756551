"""Fixtures of the inbox's tests."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User


@pytest.fixture
def citizen_client(citizen: User) -> Client:
    """王小明, logged in."""
    client = Client()
    client.force_login(citizen)
    return client
