"""The OpenID Connect provider's signing key, checked when the settings load."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
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
