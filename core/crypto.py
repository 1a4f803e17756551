"""Encryption of personal data at rest, and keyed hashes for finding it again.

Identity numbers, query passwords and uploads are stored encrypted with Fernet
(AES-128-CBC with an HMAC-SHA256 tag). The keys come from the
``FIELD_ENCRYPTION_KEY`` setting: a comma-separated list of Fernet keys, of
which the first encrypts and every one decrypts, so a key is rotated by putting
a new key first and keeping the old one behind it until every value has been
encrypted again.

An encrypted value cannot be searched, so what must be found by equality ("the
person with this ID number") also gets a keyed hash: HMAC-SHA256 under a key
derived from the first encryption key and a purpose, so that the hashes of one
purpose say nothing about those of another and nobody without the key can test
guesses. ``keyed_hashes`` gives the hash under every key, for lookups while a
rotation is under way.

When DEBUG is on and no key is set, a development key is derived from
SECRET_KEY. That is for local runs only: with DEBUG off the setting is required.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SETTING = "FIELD_ENCRYPTION_KEY"
# Labels of the key derivations, which every stored hash and the development key depend on: they keep the names
# of the module they were first written in and must never change, or no stored hash matches again.
_HASH_INFO_PREFIX = b"portal.crypto.keyed_hash:"
_DEVELOPMENT_KEY_PREFIX = b"portal.crypto.development-key:"


class DecryptionError(ValueError):
    """A token that none of the keys opens: altered, truncated, or made under a key no longer configured."""


def parse_keys(value: str) -> tuple[bytes, ...]:
    """The Fernet keys of a comma-separated setting, first one first; refuses a malformed one by its position."""
    items = [item.strip() for item in value.split(",")]
    if not value.strip() or any(not item for item in items):
        raise ImproperlyConfigured(f"{SETTING} must be a comma-separated list of Fernet keys without empty items.")
    keys = []
    for position, item in enumerate(items, start=1):
        try:
            raw = base64.urlsafe_b64decode(item.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ImproperlyConfigured(
                f"{SETTING}: key {position} is not a Fernet key (32 bytes in URL-safe base64, as "
                "Fernet.generate_key() makes)."
            )
        keys.append(item.encode("ascii"))
    return tuple(keys)


def development_key(secret_key: str) -> bytes:
    """A Fernet key derived from SECRET_KEY: for DEBUG runs only, never for real data."""
    digest = hashlib.sha256(_DEVELOPMENT_KEY_PREFIX + secret_key.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest)


def configured_keys() -> tuple[bytes, ...]:
    """The keys in force: the setting's, or in DEBUG without one, the development key."""
    value = getattr(settings, SETTING, "") or ""
    if value:
        return parse_keys(value)
    if settings.DEBUG:
        return (development_key(settings.SECRET_KEY),)
    raise ImproperlyConfigured(f"{SETTING} must be set: it encrypts personal data, and DEBUG is off.")


@lru_cache(maxsize=8)
def _fernet(keys: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


@lru_cache(maxsize=64)
def _hash_key(key: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=_HASH_INFO_PREFIX + purpose.encode("utf-8"),
    ).derive(base64.urlsafe_b64decode(key))


def encrypt(text: str) -> str:
    """``text`` encrypted under the first key, as URL-safe ASCII; the same text encrypts differently each time."""
    return _fernet(configured_keys()).encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The text of a token made by ``encrypt`` under any configured key."""
    try:
        return _fernet(configured_keys()).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError) as error:
        raise DecryptionError("the token cannot be decrypted with any configured key") from error


def reencrypt(token: str) -> str:
    """A token made under an older key, encrypted again under the first one (for rotation)."""
    try:
        return _fernet(configured_keys()).rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeEncodeError) as error:
        raise DecryptionError("the token cannot be decrypted with any configured key") from error


def _keyed_hash(key: bytes, text: str, purpose: str) -> str:
    return hmac.new(_hash_key(key, purpose), text.encode("utf-8"), hashlib.sha256).hexdigest()


def _require_purpose(purpose: str) -> None:
    if not purpose:
        raise ValueError("a keyed hash needs a purpose, so that hashes of different kinds never coincide")


def keyed_hash(text: str, *, purpose: str) -> str:
    """HMAC-SHA256 of ``text`` (64 hex digits) under the first key and ``purpose``: what is stored."""
    _require_purpose(purpose)
    return _keyed_hash(configured_keys()[0], text, purpose)


def keyed_hashes(text: str, *, purpose: str) -> list[str]:
    """The hash of ``text`` under every configured key, first key first: what a lookup searches for."""
    _require_purpose(purpose)
    return [_keyed_hash(key, text, purpose) for key in configured_keys()]
