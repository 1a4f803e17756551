"""Load the demo data. Idempotent: running it twice changes nothing."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_TOTP_SECRET, seed_demo_accounts, seed_demo_enterprises
from demo.catalogue import seed_catalogue
from demo.holidays import seed_holidays
from demo.registries import seed_registries


class Command(BaseCommand):
    help = (
        "Create the demo catalogue, the demo base registries and the demo accounts "
        "(safe to run again; existing rows are left as they are)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--demo-accounts",
            action="store_true",
            help="Seed even when DEBUG is off. The demo accounts have a published password and TOTP secret.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["demo_accounts"]:
            raise CommandError(
                "DEBUG is off: the demo accounts share a published password. Pass --demo-accounts to seed anyway."
            )
        counts = seed_catalogue()
        self.stdout.write(
            "Catalogue: "
            + ", ".join(
                _counted(counts[key], singular, plural)
                for key, singular, plural in (
                    ("provinces", "province", "provinces"),
                    ("cities", "city", "cities"),
                    ("counties", "county", "counties"),
                    ("departments", "department", "departments"),
                    ("themes", "theme", "themes"),
                    ("items", "published item", "published items"),
                    ("bundles", "bundle", "bundles"),
                    ("synonyms", "search synonym", "search synonyms"),
                )
            )
            + "."
        )
        self.stdout.write(f"Working-day calendar: {_counted(seed_holidays(), 'day', 'days')} added for 2026–2027.")
        registries = seed_registries()
        self.stdout.write(
            f"Registries: {_counted(registries['persons'], 'person', 'persons')}, "
            f"{_counted(registries['legal_persons'], 'legal person', 'legal persons')}."
        )
        created, existing = seed_demo_accounts()
        self.stdout.write(f"Demo accounts: {created} created, {existing} already there.")
        claimed, authorisations = seed_demo_enterprises()
        self.stdout.write(
            f"Enterprises: {claimed} claimed, "
            f"{_counted(authorisations, 'agent authorisation', 'agent authorisations')}."
        )
        self.stdout.write(f"Every demo account's password is {DEMO_PASSWORD}")
        for account in DEMO_ACCOUNTS:
            self.stdout.write(f"  {account.email:<24} {account.role}")
        self.stdout.write(
            f"  clerk-<uscc>@example.com and supervisor-<uscc>@example.com for each of the "
            f"{counts['departments']} departments (USCC in lower case)"
        )
        self.stdout.write(f"Staff accounts log in with TOTP; the demo secret is {DEMO_TOTP_SECRET}")


def _counted(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"
