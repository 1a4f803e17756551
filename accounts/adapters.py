"""allauth adapters: how allauth stores the portal's secrets."""

from __future__ import annotations

from allauth.mfa.adapter import DefaultMFAAdapter

from portal import crypto


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets are encrypted at rest with the portal's field keys, like identity numbers."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)
