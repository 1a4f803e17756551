"""Every user-facing text has its Chinese translation, and the compiled catalogue is current."""

import gettext
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def _catalogue(language: str):
    with (LOCALE / language / "LC_MESSAGES" / "django.po").open("rb") as po:
        return read_po(po)


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def test_every_message_has_a_chinese_translation():
    catalogue = _catalogue("zh_Hans")
    untranslated = [message.id for message in catalogue if message.id and not all(_strings(message))]
    fuzzy = [message.id for message in catalogue if message.id and message.fuzzy]
    assert len(catalogue) > 40
    assert untranslated == []
    assert fuzzy == []


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_compiled_catalogue_matches_its_source(language):
    catalogue = _catalogue(language)
    with (LOCALE / language / "LC_MESSAGES" / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    stale = []
    for message in catalogue:
        if not message.id:
            continue
        if message.pluralizable:
            singular, plural = message.id
            if all(message.string) and compiled.ngettext(singular, plural, 1) != message.string[0]:
                stale.append(singular)
        elif message.string:
            compiled_string = (
                compiled.pgettext(message.context, message.id) if message.context else compiled.gettext(message.id)
            )
            if compiled_string != message.string:
                stale.append(message.id)
    assert stale == [], "run `make messages` to recompile the catalogues"
