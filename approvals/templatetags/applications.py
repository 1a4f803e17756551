"""The applicant's latest applications and drafts, for the personal space (/me/) to show."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth.base_user import AbstractBaseUser

from approvals.applications import selectors
from approvals.models import Application

register = template.Library()

SHOWN = 5


@register.inclusion_tag("approvals/_recent.html")
def recent_applications(user: AbstractBaseUser) -> dict[str, Any]:
    mine = selectors.applications_for_owner(user)
    return {
        "applications": list(mine.exclude(status=Application.Status.DRAFT)[:SHOWN]),
        "drafts": list(
            mine.filter(status=Application.Status.DRAFT, bundle_application__isnull=True).order_by(
                "-updated_at", "-pk"
            )[:SHOWN]
        ),
    }
