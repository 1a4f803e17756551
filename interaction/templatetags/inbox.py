"""The unread count of the inbox, for the header and the account page."""

from __future__ import annotations

from django import template
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from interaction import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_messages_count(context: template.Context, user: AbstractBaseUser | AnonymousUser) -> int:
    """How many unread messages ``user`` has; counted once per page however many times it is shown."""
    key = f"interaction.unread_messages_count.{user.pk}"
    if key not in context.render_context:
        context.render_context[key] = selectors.unread_count(user)
    count: int = context.render_context[key]
    return count
