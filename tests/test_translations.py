"""Every user-facing text has its Chinese translation, and the compiled catalogue is current."""

import gettext
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def _catalogue(language: str):
    with (LOCALE / language / "LC_MESSAGES" / "django.po").open("rb") as po:
        return read_po(po)


def test_every_message_has_a_chinese_translation():
    catalogue = _catalogue("zh_Hans")
    untranslated = [message.id for message in catalogue if message.id and not message.string]
    fuzzy = [message.id for message in catalogue if message.id and message.fuzzy]
    assert len(catalogue) > 40
    assert untranslated == []
    assert fuzzy == []


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_compiled_catalogue_matches_its_source(language):
    catalogue = _catalogue(language)
    with (LOCALE / language / "LC_MESSAGES" / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    stale = [
        message.id
        for message in catalogue
        if message.id and message.string and compiled.gettext(message.id) != message.string
    ]
    assert stale == [], "run `make messages` to recompile the catalogues"
