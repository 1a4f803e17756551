"""The fixtures of the applications' actions tests: a pinned clock, uploads in a temporary folder, an enterprise."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone, translation

from accounts import actions as account_actions
from accounts.models import Enterprise, User
from approvals.models import (
    Application,
)
from demo.registry_data import LI_JIANGUO, YIWANG_TECHNOLOGY
from services.models import Department, ServiceItem
from tests.approvals.applications.helpers import (
    AFTER_MIDNIGHT_IN_SHANGHAI,
    Clock,
    request_supplement,
)
from tests.approvals.builders import (
    make_applicable_item,
    make_enterprise_item,
    submitted,
)
from tests.datahub.builders import make_wang_household, make_yiwang_technology
from tests.factories import UserFactory, email_user, give_identity


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    pinned = Clock(AFTER_MIDNIGHT_IN_SHANGHAI)
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
def household() -> None:
    """王小明's household in the population registry (赵丽, the other citizen, is not in it)."""
    make_wang_household()


@pytest.fixture
def item(department: Department, household: None) -> ServiceItem:
    return make_applicable_item(department=department)


@pytest.fixture
def legal_rep(db: None) -> User:
    return give_identity(email_user("legalrep@example.com", last_name="李", first_name="建国"), LI_JIANGUO)


@pytest.fixture
def enterprise(legal_rep: User) -> Enterprise:
    """杭州一网科技有限公司, claimed by 李建国, its legal representative in the registry."""
    make_yiwang_technology()
    return account_actions.enterprise_claim(uscc=YIWANG_TECHNOLOGY.uscc, actor=legal_rep)


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
