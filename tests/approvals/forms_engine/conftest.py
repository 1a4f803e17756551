"""The form engine tests' fixtures."""

from __future__ import annotations

import pytest

from tests.approvals.forms_engine.helpers import (
    HANGZHOU,
    XIHU,
)
from tests.services.factories import region


@pytest.fixture
def xihu(db: None) -> None:
    region("330000000000", "浙江省")
    region(HANGZHOU, "杭州市")
    region(XIHU, "西湖区")
