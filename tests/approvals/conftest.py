"""Fixtures the tests of approvals share (the named users, ``item``, ``upload_root`` and ``english`` are in tests/)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from approvals import outbox
from tests.approvals.helpers import Clock, ten_am


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """``timezone.now`` pinned at Monday 9 March 2026, 10:00 in Shanghai, until the test moves it."""
    pinned = Clock(ten_am(3, 9))
    monkeypatch.setattr(timezone, "now", lambda: pinned.now)
    return pinned


@pytest.fixture
def unsent(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Routing promises stay in their rows, nothing goes to the broker: the test processes them as the routing
    worker would. The ids that would have been sent."""
    sent: list[int] = []
    monkeypatch.setattr(outbox, "outbox_send", sent.append)
    return sent
