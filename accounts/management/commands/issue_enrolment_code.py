"""Issue a staff member's one-time TOTP enrolment code from the command line (the admin's action does the same)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import enrolment
from accounts.models import User
from core.errors import DomainError


class Command(BaseCommand):
    help = "Issue a one-time enrolment code for a staff member's first authenticator (TOTP), valid 72 hours."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="E-mail address of the staff member's account.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["email"]).first()
        if user is None:
            raise CommandError(f"No account has the e-mail address {options['email']}.")
        try:
            code = enrolment.staff_enrolment_code_issue(user_id=user.pk, actor=None)
        except DomainError as error:
            raise CommandError(str(error.message)) from None
        self.stdout.write(f"{user.email}: {code} (once, for 72 hours; hand it over in person or by a second channel)")
