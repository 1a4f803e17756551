"""Fixtures of the accounts tests."""

from __future__ import annotations

import pytest

from accounts.models import RealNameLevel, User
from demo.registry_data import WANG_XIAOMING
from tests.factories import email_user, give_identity


@pytest.fixture
def wang(db: None) -> User:
    """王小明 at level 2, as after the online check."""
    return give_identity(email_user("wang@example.com"), WANG_XIAOMING, level=RealNameLevel.BASIC)
