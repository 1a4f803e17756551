"""allauth adapters: how allauth stores the portal's secrets, and what departments' systems learn of a user."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from allauth.idp.oidc.adapter import DefaultOIDCAdapter
from allauth.idp.oidc.models import Client
from allauth.mfa.adapter import DefaultMFAAdapter
from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from portal import crypto


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets are encrypted at rest with the portal's field keys, like identity numbers."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)


class OIDCAdapter(DefaultOIDCAdapter):
    """The claims a department's system receives when a user logs in to it through the portal.

    Every client learns the real-name level, so that it can decide what the user may do there. The
    verified legal name and the identity document (type and masked number) come only with the
    "profile" scope the user granted; the clear number never leaves the portal. Names the user typed
    in themselves (given/family name) are left out: a department must not mistake them for verified ones.
    """

    # The consent page tells the user what each scope gives away here, not allauth's generic wording.
    scope_display = {
        **DefaultOIDCAdapter.scope_display,
        "openid": _("View your user ID and real-name level"),
        "profile": _("View your verified legal name and identity document (number masked)"),
    }

    def get_claims(
        self,
        purpose: Literal["id_token", "userinfo"],
        user: AbstractBaseUser,
        client: Client,
        scopes: Iterable[str],
        email: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        scopes = list(scopes)
        # The default's e-mail claims; its profile claims are replaced below.
        claims = super().get_claims(purpose, user, client, [scope for scope in scopes if scope != "profile"], email)
        if not isinstance(user, User):  # pragma: no cover - AUTH_USER_MODEL is accounts.User
            return claims
        claims["real_name_level"] = user.real_name_level
        if "profile" in scopes:
            if user.full_name and user.is_real_name_verified:
                claims["name"] = user.full_name
            if user.id_number_masked:
                claims["id_type"] = user.id_type
                claims["id_number_masked"] = user.id_number_masked
        return claims

    def populate_server_metadata(self, data: dict[str, str | list[str]]) -> None:
        data["claims_supported"] = [
            "sub", "email", "email_verified", "real_name_level", "name", "id_type", "id_number_masked",
        ]  # fmt: skip
