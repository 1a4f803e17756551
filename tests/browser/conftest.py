"""Fixtures of the browser journeys (``page``, ``open_context`` and ``browser`` are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def new_page(open_context: Callable[..., Any]) -> Callable[..., Any]:
    """Another browser window with cookies of its own, as the ``page`` fixture makes one (and checked as it is);
    ``viewport={"width": 375, "height": 800}`` makes it a phone's."""

    def make(**options: Any) -> Any:
        page = open_context(**options).new_page()
        page.set_default_timeout(10_000)
        return page

    return make
