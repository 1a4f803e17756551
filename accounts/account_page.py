"""The sections other apps add to the account page (/me/), which accounts shows without knowing those apps.

An app above accounts connects a handler in its ``AppConfig.ready``; the handler takes the request and the
page's owner and returns the section to show (a template of its own and that template's context), or None
to show nothing. The page shows the sections in the order they were connected, which is the order of
``INSTALLED_APPS`` (approvals' recent applications, then interaction's messages link).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from accounts.models import User
from core.registry import Hooks


@dataclass(frozen=True)
class AccountSection:
    template_name: str
    context: dict[str, Any] = field(default_factory=dict)


# Each handler: (request, owner) -> AccountSection | None.
account_page_sections: Hooks[[HttpRequest, User]] = Hooks("accounts.account_page_sections")
# The same for the real-name verification page (/me/verify/), below its form: (request, owner) -> section or None.
verify_page_sections: Hooks[[HttpRequest, User]] = Hooks("accounts.verify_page_sections")


def sections_for(request: HttpRequest, user: User) -> list[AccountSection]:
    """The sections of ``user``'s account page, in the order they were connected."""
    return _shown(account_page_sections.call(request, user))


def verify_sections_for(request: HttpRequest, user: User) -> list[AccountSection]:
    """The sections other apps add below the real-name verification form, in the order they were connected."""
    return _shown(verify_page_sections.call(request, user))


def _shown(sections: list[AccountSection | None]) -> list[AccountSection]:
    return [section for section in sections if section is not None]
