"""What ``python -m bench.scale`` does: seed the demo catalogue, then top up synthetic items and applications."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from django.conf import settings
from tqdm import tqdm

from bench.scale.items import synthetic_item_count, top_up_synthetic_items
from bench.scale.plans import SCALE, ScaleError
from bench.scale.writer import require_postgresql, top_up_applications
from demo.catalogue import seed_catalogue


def seed(
    *,
    items: int = 0,
    applications: int = 0,
    batch_size: int = 5000,
    application_batch_size: int = 10_000,
    allow_production: bool = False,
    stdout: TextIO | None = None,
) -> None:
    """Top the catalogue up to ``items`` synthetic items and the approvals up to ``applications``; say what was done."""
    output = stdout or sys.stdout
    if items < 0 or applications < 0 or batch_size < 1 or application_batch_size < 1:
        raise ScaleError("--items and --applications must be 0 or more, and the batch sizes at least 1.")
    if applications:
        require_postgresql()
    if not settings.DEBUG and not allow_production:
        raise ScaleError(
            "DEBUG is off: synthetic items would be published in this catalogue. "
            "Pass --allow-production to seed anyway."
        )
    started = time.monotonic()
    counts = seed_catalogue()
    output.write(f"Demo catalogue: {counts['departments']} departments, {counts['themes']} themes.\n")
    existing = synthetic_item_count()
    missing = max(items - existing, 0)
    with tqdm(total=missing, unit="item", desc="Synthetic items", disable=missing == 0) as bar:
        added = top_up_synthetic_items(target=items, batch_size=batch_size, progress=bar.update)
    elapsed = time.monotonic() - started
    output.write(
        f"Synthetic items: {added} added, {existing} already there, {existing + added} in all ({elapsed:.1f} s).\n"
    )
    if not applications:
        return
    started = time.monotonic()
    existing_applications = SCALE.applications().count()
    missing_applications = max(applications - existing_applications, 0)
    with tqdm(
        total=missing_applications,
        unit="application",
        desc="Synthetic applications",
        disable=not missing_applications,
    ) as bar:
        added_applications = top_up_applications(
            target=applications, batch_size=application_batch_size, progress=bar.update
        )
    elapsed = time.monotonic() - started
    output.write(
        f"Synthetic applications: {added_applications} added, {existing_applications} already there, "
        f"{existing_applications + added_applications} in all ({elapsed:.1f} s).\n"
    )


def main(arguments: Sequence[str] | None = None, *, stdout: TextIO | None = None) -> None:
    """The command line; a refusal ends the process with its message (status 1)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale",
        description="Seed the demo catalogue, then top the catalogue up to N synthetic published items "
        "(basic codes starting with 9) and the approvals up to N synthetic applications "
        "(PostgreSQL only). Safe to run again: it adds only what is missing.",
    )
    parser.add_argument("--items", type=int, default=0, help="How many synthetic items there should be.")
    parser.add_argument(
        "--applications",
        type=int,
        default=0,
        help="How many synthetic applications there should be, with their events and workflow tasks "
        "(PostgreSQL only: written with COPY).",
    )
    parser.add_argument("--batch-size", type=int, default=5000, help="Items written per transaction.")
    parser.add_argument(
        "--application-batch-size", type=int, default=10_000, help="Applications written per transaction."
    )
    parser.add_argument(
        "--allow-production",
        action="store_true",
        help="Seed even when DEBUG is off (the synthetic items would be published in the real catalogue).",
    )
    options = parser.parse_args(arguments)
    try:
        seed(
            items=options.items,
            applications=options.applications,
            batch_size=options.batch_size,
            application_batch_size=options.application_batch_size,
            allow_production=options.allow_production,
            stdout=stdout,
        )
    except ScaleError as error:
        raise SystemExit(f"Error: {error}") from error
