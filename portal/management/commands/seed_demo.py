"""Load the demo data. Idempotent: running it twice changes nothing."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from datahub.demo import seed_registries
from portal.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from services.demo import seed_catalogue


class Command(BaseCommand):
    help = (
        "Create the demo accounts, the demo catalogue and the demo base registries "
        "(safe to run again; existing rows are left as they are)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even when DEBUG is off. The demo accounts have a published password.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "DEBUG is off: the demo accounts share a published password. Pass --allow-production to seed anyway."
            )
        created = self.seed_accounts()
        self.stdout.write(f"Demo accounts: {created} created, {len(DEMO_ACCOUNTS) - created} already there.")
        self.stdout.write(f"Every demo account's password is {DEMO_PASSWORD}")
        for account in DEMO_ACCOUNTS:
            self.stdout.write(f"  {account.username:<12} {account.last_name}{account.first_name:<4} {account.role}")
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
        registries = seed_registries()
        self.stdout.write(
            f"Registries: {_counted(registries['persons'], 'person', 'persons')}, "
            f"{_counted(registries['legal_persons'], 'legal person', 'legal persons')}."
        )

    @transaction.atomic
    def seed_accounts(self) -> int:
        user_model = get_user_model()
        created_count = 0
        for account in DEMO_ACCOUNTS:
            user, created = user_model.objects.get_or_create(
                username=account.username,
                defaults={
                    "last_name": account.last_name,
                    "first_name": account.first_name,
                    "email": f"{account.username}@demo.zwfw.invalid",
                    "is_staff": account.is_staff,
                    "is_superuser": account.is_superuser,
                },
            )
            if created:
                # Only a new account gets the password: a changed one is the owner's choice.
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
                created_count += 1
        return created_count


def _counted(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"
