"""Template context shared by every page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils.translation import get_language, get_language_info


def site(request: HttpRequest) -> dict[str, object]:
    """Links to this same page in every other language, for the switcher."""
    current = get_language() or settings.LANGUAGE_CODE
    path = request.get_full_path()
    other_languages = [
        {
            "code": code,
            "name": get_language_info(code)["name_local"],
            "url": translate_url(path, code),
        }
        for code, _name in settings.LANGUAGES
        if code != current
    ]
    # BCP 47 spells the script with a capital: zh-Hans.
    html_lang = "zh-Hans" if current == "zh-hans" else current
    return {"other_languages": other_languages, "current_language": current, "html_lang": html_lang}
