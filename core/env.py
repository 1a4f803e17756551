"""Read deploy-time settings from the environment, refusing malformed values loudly.

Every helper raises ``ImproperlyConfigured`` naming the variable and what was
expected, so a typo in a deployment fails at start-up instead of at 3 a.m.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def env_str(name: str, default: str | None = None) -> str | None:
    """A string, or ``default`` when the variable is unset or empty."""
    value = _raw(name)
    return default if value is None else value


def env_required(name: str, reason: str) -> str:
    """A string that must be set; ``reason`` explains why in the error."""
    value = _raw(name)
    if value is None:
        raise ImproperlyConfigured(f"{name} must be set: {reason}.")
    return value


def missing_settings(required: dict[str, str]) -> None:
    """Stop with one message naming every variable of ``required`` (name: what it is for) that is not set."""
    missing = [f"{name} ({purpose})" for name, purpose in required.items() if _raw(name) is None]
    if missing:
        raise ImproperlyConfigured(
            "DEBUG is off, and these settings must come from the environment: " + "; ".join(missing) + "."
        )


def env_bool(name: str, default: bool) -> bool:
    """true/false, yes/no, on/off or 1/0, in any case."""
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """A whole number, at least ``minimum`` when one is given."""
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; blanks around items are ignored, empty items refused."""
    value = _raw(name)
    if value is None:
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(f"{name} must be a comma-separated list without empty items, not {value!r}.")
    return items


def env_url(name: str, default: str | None, *, schemes: set[str]) -> str | None:
    """A URL whose scheme is one of ``schemes``."""
    value = _raw(name)
    if value is None:
        return default
    scheme = urlsplit(value).scheme
    if scheme not in schemes:
        allowed = ", ".join(sorted(schemes))
        raise ImproperlyConfigured(f"{name} must be a URL starting with one of {allowed}, not {value!r}.")
    return value


def env_choice(name: str, default: str, *, choices: set[str]) -> str:
    """One of a fixed set of words, compared without regard to case."""
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered not in choices:
        allowed = ", ".join(sorted(choices))
        raise ImproperlyConfigured(f"{name} must be one of {allowed}, not {value!r}.")
    return lowered
