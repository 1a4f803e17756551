"""What the inbox can say: one registered event per kind of message, with its words.

An event's subject and body are translatable templates with ``%(name)s`` placeholders,
filled from the message's context when the message is shown, in the reader's language.
A context holds plain JSON values only: ids, numbers, names, dates as ISO text, site paths.

Two conventions keep a message readable in every language:

- a value whose key ends in ``_display`` is the source (English) text of a label, stored
  untranslated (``with translation.override(None): str(label)``) and translated when shown;
- the value under the event's ``link_key`` is a site path (``/me/applications/…``), shown
  in the reader's language (``/en/…`` for English).

Other apps add their own events at start-up (``AppConfig.ready``) with ``register``; this
app never imports them. The events the portal needs from the start are defined below.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import translate_url
from django.utils.functional import Promise
from django.utils.translation import get_language, get_language_from_path, gettext, override
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

# Shown in place of a value the context lacks, so that the rest of the message still reads.
MISSING_VALUE = "—"


@dataclass(frozen=True)
class Event:
    """The words of one kind of message, and which context key holds the page it is about."""

    subject: str | Promise
    body: str | Promise
    link_key: str | None = None


EVENTS: dict[str, Event] = {}


def register(code: str, event: Event) -> None:
    """Make ``code`` an event that ``notify`` accepts; registering the same event twice is harmless."""
    existing = EVENTS.get(code)
    if existing is not None and existing != event:
        raise ValueError(f"the event {code!r} is already registered with other words")
    EVENTS[code] = event


class _Values(dict[str, Any]):
    """A message's context for formatting: a missing key is logged and shown as a dash, never a crash."""

    def __init__(self, context: Mapping[str, Any], *, event: str, message_id: int | None) -> None:
        super().__init__(
            (key, gettext(value) if key.endswith("_display") and isinstance(value, str) and value else value)
            for key, value in context.items()
        )
        self.event = event
        self.message_id = message_id

    def __missing__(self, key: str) -> str:
        logger.warning("message %s of event %s: the context has no %r", self.message_id, self.event, key)
        return MISSING_VALUE


def _render(template: str | Promise, code: str, context: Mapping[str, Any], message_id: int | None) -> str:
    text = str(template)  # translated now, in the active language
    try:
        return text % _Values(context if isinstance(context, Mapping) else {}, event=code, message_id=message_id)
    except (TypeError, ValueError):
        # A malformed placeholder in a translation: show the words rather than fail the page.
        logger.warning("message %s of event %s: the template %r cannot be filled", message_id, code, text)
        return text


def render_subject(code: str, context: Mapping[str, Any], *, message_id: int | None = None) -> str:
    """The subject of a message of event ``code``, in the active language."""
    event = EVENTS.get(code)
    if event is None:
        logger.warning("message %s: unknown event %s", message_id, code)
        return gettext("Message")
    return _render(event.subject, code, context, message_id)


def render_body(code: str, context: Mapping[str, Any], *, message_id: int | None = None) -> str:
    """The body of a message of event ``code``, in the active language."""
    event = EVENTS.get(code)
    if event is None:
        return ""
    return _render(event.body, code, context, message_id)


def is_site_path(value: object) -> bool:
    """A path on this site (``/…``): never another host, never a ``javascript:`` link."""
    return (
        isinstance(value, str)
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and value.isprintable()
    )


def render_url(code: str, context: Mapping[str, Any]) -> str:
    """The page a message of event ``code`` is about, in the active language; empty when it has none."""
    event = EVENTS.get(code)
    if event is None or event.link_key is None or not isinstance(context, Mapping):
        return ""
    path = context.get(event.link_key)
    if not is_site_path(path):
        return ""
    assert isinstance(path, str)  # is_site_path checked it
    target = get_language() or settings.LANGUAGE_CODE
    # The path may carry the language it was made in: resolve it in that one, reverse it in the reader's.
    with override(get_language_from_path(path) or settings.LANGUAGE_CODE):
        return translate_url(path, target)


# --- The events of the portal's own workflows. ---

register(
    "application_submitted",
    Event(
        subject=_("%(service_name)s: application %(number)s submitted"),
        body=_(
            "Your application for %(service_name)s has been submitted. Its number is %(number)s; "
            "you can follow its progress on the application's page."
        ),
        link_key="url",
    ),
)
register(
    "application_supplement_requested",
    Event(
        subject=_("%(service_name)s: more material is needed for application %(number)s"),
        body=_(
            "The department handling your application for %(service_name)s (%(number)s) asks you to supply: "
            "%(items)s. Please do so on the application's page."
        ),
        link_key="url",
    ),
)
register(
    "application_decided",
    Event(
        subject=_("%(service_name)s: %(outcome_display)s (application %(number)s)"),
        body=_(
            "Your application for %(service_name)s (%(number)s) has been decided: %(outcome_display)s. "
            "The application's page has the details."
        ),
        link_key="url",
    ),
)
register(
    "application_withdrawn",
    Event(
        subject=_("%(service_name)s: application %(number)s withdrawn"),
        body=_("Your application for %(service_name)s (%(number)s) has been withdrawn."),
        link_key="url",
    ),
)
register(
    "draft_expiring",
    Event(
        subject=_("Your draft for %(service_name)s expires soon"),
        body=_(
            "Your draft application for %(service_name)s will be deleted on %(expires_on)s "
            "unless you submit it before then."
        ),
        link_key="url",
    ),
)
register(
    "legal_representative_changed",
    Event(
        subject=_("The legal representative of %(enterprise_name)s has changed"),
        body=_(
            "The legal-person registry no longer names you as the legal representative of %(enterprise_name)s. "
            "Your claim of this enterprise has ended, and so have the authorisations you granted for it."
        ),
        link_key="url",
    ),
)
register(
    "authorisation_ended",
    Event(
        subject=_("Your authorisation to act for %(enterprise_name)s has ended"),
        body=_(
            "You can no longer act for %(enterprise_name)s. "
            "If you still need to, ask its legal representative for a new authorisation."
        ),
    ),
)
