"""Fill the catalogue with synthetic published items, for load tests and benchmarks."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from services.demo import seed_catalogue, synthetic_item_count, top_up_synthetic_items


class Command(BaseCommand):
    help = (
        "Seed the demo catalogue, then top the catalogue up to N synthetic published items "
        "(basic codes starting with 9). Safe to run again: it adds only what is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--items", type=int, default=0, help="How many synthetic items there should be.")
        parser.add_argument(
            "--applications",
            type=int,
            default=0,
            help="Synthetic applications (not available yet: applications arrive with the applications capability).",
        )
        parser.add_argument("--batch-size", type=int, default=5000, help="Items written per transaction.")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even when DEBUG is off (the synthetic items would be published in the real catalogue).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        target: int = options["items"]
        if options["applications"] > 0:
            raise CommandError(
                "Synthetic applications arrive with the applications capability; "
                "seed_scale cannot create them yet. Run it with --items only."
            )
        if target < 0 or options["batch_size"] < 1:
            raise CommandError("--items must be 0 or more and --batch-size at least 1.")
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "DEBUG is off: synthetic items would be published in this catalogue. "
                "Pass --allow-production to seed anyway."
            )
        started = time.monotonic()
        counts = seed_catalogue()
        self.stdout.write(f"Demo catalogue: {counts['departments']} departments, {counts['themes']} themes.")
        existing = synthetic_item_count()
        missing = max(target - existing, 0)
        with tqdm(total=missing, unit="item", desc="Synthetic items", disable=missing == 0) as bar:
            added = top_up_synthetic_items(target=target, batch_size=options["batch_size"], progress=bar.update)
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Synthetic items: {added} added, {existing} already there, {existing + added} in all ({elapsed:.1f} s)."
        )
