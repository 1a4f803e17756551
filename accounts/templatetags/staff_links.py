"""Whether the header links to the clerk's workbench: for staff only, and without a query on any page."""

from __future__ import annotations

from django import template

from accounts.staff_session import is_remembered_staff_member

register = template.Library()


@register.simple_tag(takes_context=True)
def shows_workbench(context: template.Context) -> bool:
    """Whether the person on the page is staff, as their login found (``accounts.staff_session``)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return request is not None and user is not None and is_remembered_staff_member(request, user)
