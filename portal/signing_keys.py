"""The OpenID Connect provider's signing key, checked when the settings load."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, load_pem_private_key
from django.core.exceptions import ImproperlyConfigured

SETTING = "IDP_OIDC_PRIVATE_KEY"
MINIMUM_KEY_SIZE = 2048


def parse_rsa_private_key(pem: str) -> RSAPrivateKey:
    """The RSA private key of ``pem``; refuses anything else, since ID tokens are signed with RS256."""
    try:
        key = load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError):
        raise ImproperlyConfigured(
            f"{SETTING} must be an unencrypted RSA private key in PEM "
            "(openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048)."
        ) from None
    if not isinstance(key, RSAPrivateKey) or key.key_size < MINIMUM_KEY_SIZE:
        raise ImproperlyConfigured(f"{SETTING} must be an RSA key of at least {MINIMUM_KEY_SIZE} bits.")
    return key


def development_rsa_key(path: Path) -> str:
    """The development signing key kept at ``path``, made there the first time (for DEBUG runs only).

    Several processes start at once under ``make run``: the file is created exclusively, so
    the first one writes it and the others read the same key.
    """
    try:
        return path.read_text(encoding="ascii")
    except FileNotFoundError:
        pass
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=MINIMUM_KEY_SIZE)
        .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        .decode("ascii")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(pem)
    try:
        os.link(partial, path)  # fails when another process was first: its key wins
    except FileExistsError:
        pass
    finally:
        partial.unlink()
    return path.read_text(encoding="ascii")
