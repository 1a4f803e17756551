"""The unread count of the inbox, for the header and the account page."""

from __future__ import annotations

from typing import Any, cast

from django import template
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from interaction import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_messages_count(context: template.Context, user: AbstractBaseUser | AnonymousUser) -> int:
    """How many unread messages ``user`` has; counted once per page however many times it is shown."""
    # The bottom of the render context lasts the whole rendering, included templates too: the header and a
    # section of the account page (accounts.account_page) share one count.
    counted = cast("dict[str, Any]", context.render_context.dicts[0])
    key = f"interaction.unread_messages_count.{user.pk}"
    if key not in counted:
        counted[key] = selectors.unread_count(user)
    count: int = counted[key]
    return count
