"""The shape the code keeps: modules a newcomer can read in one sitting.

Which app may import which, and that no app or part of approvals imports in a circle,
is checked by import-linter in `make lint` (the contracts are in .importlinter).
"""

from __future__ import annotations

from tests.helpers import ROOT

MAX_LINES = 700
# Data, not code: the demo catalogue's items and the registries' demo people are long lists.
DATA_FOLDERS = ("demo/catalogue_data/",)
DATA_FILES = ("demo/registry_data.py",)


SKIPPED_FOLDERS = {"var", "staticfiles", "node_modules", "__pycache__"}


def python_files() -> list[str]:
    """The project's own modules: every .py file but those of hidden folders (.venv, .git) and of var/."""
    return sorted(
        path.relative_to(ROOT).as_posix()
        for path in ROOT.rglob("*.py")
        if not any(part.startswith(".") or part in SKIPPED_FOLDERS for part in path.relative_to(ROOT).parts)
    )


def test_no_module_outside_migrations_and_demo_data_is_longer_than_700_lines():
    files = python_files()
    assert "approvals/models.py" in files  # the listing found the project
    too_long = {
        path: length
        for path in files
        if "/migrations/" not in path and not path.startswith(DATA_FOLDERS) and path not in DATA_FILES
        if (length := len((ROOT / path).read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}, f"split these by what they do: {too_long}"
