"""Where a web or worker process's memory goes at start: resident memory added by each import.

    .venv/bin/python -m bench.memory          # with the benchmark's environment (bench/run.py sets it)

Imports the WSGI application and the URLs, as a gunicorn worker does before its
first request, and prints each import that added at least 4 MB of resident
memory (what it imported above it, indented), then the total. A profile of memory, for when
``web_rss_mb`` or ``worker_rss_mb`` misses its target.
"""

from __future__ import annotations

import builtins
import os
import sys
from pathlib import Path
from typing import Any

THRESHOLD_MB = 4


def resident_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    lines: list[str] = []
    seen: set[str] = set()
    depth = [0]
    original = builtins.__import__

    def measured_import(name: str, *args: Any, **kwargs: Any) -> Any:
        before = resident_mb()
        depth[0] += 1
        try:
            return original(name, *args, **kwargs)
        finally:
            depth[0] -= 1
            added = resident_mb() - before
            if added >= THRESHOLD_MB and name not in seen:
                seen.add(name)
                lines.append(f"{'  ' * depth[0]}{name}: +{added:.0f} MB (process {resident_mb():.0f} MB)")

    start = resident_mb()
    builtins.__import__ = measured_import
    try:
        from django.urls import resolve

        from portal.wsgi import application

        resolve("/")
    finally:
        builtins.__import__ = original
    # Each import is listed when it finishes: what it imported comes above it, indented one step more.
    print(f"interpreter: {start:.0f} MB")
    print("\n".join(lines))
    print(f"after importing {type(application).__name__} and the URLs: {resident_mb():.0f} MB")


if __name__ == "__main__":
    main()
