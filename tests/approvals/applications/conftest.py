"""The fixtures of the applications' actions tests (``item``, ``legal_rep`` and ``enterprise`` are the shared ones)."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounts.models import User
from approvals.models import (
    Application,
)
from services.models import Department, ServiceItem
from tests.approvals.applications.helpers import (
    AFTER_MIDNIGHT_IN_SHANGHAI,
    request_supplement,
)
from tests.approvals.builders import (
    make_enterprise_item,
    submitted,
)
from tests.approvals.helpers import Clock
from tests.datahub.builders import make_wang_household
from tests.factories import UserFactory


@pytest.fixture
def clock(clock: Clock) -> Clock:
    """The shared clock moved to just after midnight in Shanghai (still the day before in UTC), as numbers and
    reminders here count in Shanghai days."""
    clock.now = AFTER_MIDNIGHT_IN_SHANGHAI
    return clock


@pytest.fixture(autouse=True)
def _uploads_apart_in_english(upload_root: Path, english: None) -> None:
    """Every test here keeps the files it uploads in its own folder, and reads English messages."""


@pytest.fixture
def household() -> None:
    """王小明's household in the population registry (赵丽, the other citizen, is not in it)."""
    make_wang_household()


@pytest.fixture
def enterprise_item(item: ServiceItem) -> ServiceItem:
    return make_enterprise_item(department=item.department)


@pytest.fixture
def awaiting_supplement(item: ServiceItem, citizen: User, clerk: User, department: Department) -> Application:
    application = submitted(citizen, item)
    return request_supplement(application, clerk, department)


@pytest.fixture
def editors(db: None) -> tuple[User, User]:
    return UserFactory.create(username="editor", is_staff=True), UserFactory.create(username="approver", is_staff=True)
