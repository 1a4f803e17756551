"""The workbench page tests' fixtures (``item`` and ``upload_root`` are the shared ones of tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _uploads_kept_apart(upload_root: Path) -> None:
    """Every test here keeps the files it uploads in its own folder."""
