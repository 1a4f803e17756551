"""allauth adapters: how allauth stores the portal's secrets and phone numbers, and what departments' systems learn."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from allauth.account.adapter import DefaultAccountAdapter, get_adapter
from allauth.account.internal.stagekit import clear_login
from allauth.account.stages import PhoneVerificationStage
from allauth.core.exceptions import ImmediateHttpResponse, RateLimited
from allauth.core.ratelimit import respond_429
from allauth.idp.oidc.adapter import DefaultOIDCAdapter
from allauth.idp.oidc.models import Client
from allauth.mfa.adapter import DefaultMFAAdapter
from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from accounts import actions, phone_numbers
from accounts.models import User
from accounts.sms import get_sms_sender
from accounts.staff_session import remember_staff_member
from core import crypto
from core.addresses import client_address
from core.errors import DomainError
from datahub.identity import normalize_phone


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


VERIFICATION_CODE_SMS = "【一网通办】您的验证码是 %(code)s，10 分钟内有效。"
UNKNOWN_ACCOUNT_SMS = "【一网通办】有人用本号码申请验证码，但本号码未绑定一网通办账号。如非本人操作，请忽略。"
ACCOUNT_EXISTS_SMS = "【一网通办】有人用本号码注册一网通办，但本号码已绑定账号。如忘记密码，请通过登录页找回。"


class PhoneField(forms.CharField):
    """A mainland mobile number, typed as people write it (137 1234 9050, +86…): stored as 11 digits."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Mobile phone number"))
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "numeric"})
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        return get_adapter().clean_phone(value) if value else value


class AccountAdapter(DefaultAccountAdapter):
    """Mobile numbers live on ``User.phone``/``User.phone_verified``; codes go out through the SMS sender."""

    def login(self, request: HttpRequest, user: AbstractBaseUser) -> None:
        """Log in, and note whether the user is staff for the pages' header (``accounts.staff_session``)."""
        super().login(request, user)
        remember_staff_member(request, user)

    def get_client_ip(self, request: HttpRequest) -> str:
        """The client's address as every limit of the portal reads it (``TRUSTED_PROXY_COUNT``)."""
        return client_address(request)

    def phone_form_field(self, **kwargs: Any) -> Any:
        return PhoneField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        try:
            return phone_numbers.clean_mainland_phone(phone)
        except DomainError as error:
            raise ValidationError(str(error.message), code="invalid_phone") from None

    def set_phone(self, user: AbstractBaseUser, phone: str, verified: bool) -> None:
        if verified:
            updated = phone_numbers.user_phone_verify(user_id=user.pk, phone=phone)
        else:
            updated = phone_numbers.user_phone_set(user_id=user.pk, phone=phone)
        user.phone, user.phone_verified = updated.phone, updated.phone_verified  # type: ignore[attr-defined]

    def get_phone(self, user: AbstractBaseUser) -> tuple[str, bool] | None:
        phone = getattr(user, "phone", "")
        return (phone, bool(getattr(user, "phone_verified", False))) if phone else None

    def set_phone_verified(self, user: AbstractBaseUser, phone: str) -> None:
        self.set_phone(user, phone, True)

    def get_user_by_phone(self, phone: str) -> AbstractBaseUser | None:
        """The account holding this number verified: the only one the number logs in to."""
        number = normalize_phone(phone)
        if not number:
            return None
        return User.objects.filter(phone=number, phone_verified=True).first()

    def send_verification_code_sms(self, user: AbstractBaseUser, phone: str, code: str, **kwargs: Any) -> None:
        get_sms_sender().send(phone=normalize_phone(phone), text=VERIFICATION_CODE_SMS % {"code": code})

    def send_unknown_account_sms(self, phone: str, **kwargs: Any) -> None:
        get_sms_sender().send(phone=normalize_phone(phone), text=UNKNOWN_ACCOUNT_SMS)

    def send_account_already_exists_sms(self, phone: str) -> None:
        get_sms_sender().send(phone=normalize_phone(phone), text=ACCOUNT_EXISTS_SMS)

    def get_login_stages(self) -> list[str]:
        # A number is verified when it is given at signup (or on the phone page), not at every login:
        # numbers stored by the real-name check before SMS verification existed must not block logging in.
        return [
            "accounts.adapters.SignupPhoneVerificationStage" if stage.endswith(".PhoneVerificationStage") else stage
            for stage in super().get_login_stages()
        ]


class SignupPhoneVerificationStage(PhoneVerificationStage):
    """allauth's phone verification stage, run for a signup only."""

    def handle(self) -> tuple[HttpResponse | None, bool]:
        if not self.login.signup:
            return None, True
        try:
            return super().handle()
        except RateLimited:
            # The signup form checks allauth's SMS limit first; a sign-up that raced past it (or came through
            # the app API) is undone rather than left as an account whose number could get no code.
            user = self.login.user
            if user is not None and user.pk is not None:
                actions.user_delete_unfinished_signup(user_id=user.pk)
            clear_login(self.request)
            raise ImmediateHttpResponse(respond_429(self.request)) from None
