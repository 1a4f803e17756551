"""Shows a section another app added to the account page (``accounts.account_page``)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from accounts.account_page import AccountSection

register = template.Library()


@register.simple_tag(takes_context=True)
def account_section(context: template.Context, section: AccountSection) -> SafeString:
    """Render the section's template inside the page's own rendering, with the section's context on top.

    Inside the page's rendering rather than apart, so that what a tag counts once per rendering (the unread
    messages in the header and in a section) is counted once.
    """
    assert context.template is not None
    section_template = context.template.engine.get_template(section.template_name)
    with context.push(**section.context):
        return section_template.render(context)
