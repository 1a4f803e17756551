from __future__ import annotations

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts import actions
from accounts.models import AuthorisationScope, User
from datahub.identity import IdentityType


class RealNameForm(forms.Form):
    """初级实名: what the population registry compares."""

    full_name = forms.CharField(label=_("Name"), max_length=100)
    id_type = forms.ChoiceField(
        label=_("Identity document type"), choices=IdentityType.choices, initial=IdentityType.RESIDENT_ID
    )
    id_number = forms.CharField(label=_("Identity document number"), max_length=40)
    phone = forms.CharField(
        label=_("Mobile phone number"),
        max_length=20,
        help_text=_("The phone number registered with your household registration."),
    )


class EnterpriseClaimForm(forms.Form):
    """法人认领: the unified social credit code the registry is asked about."""

    uscc = forms.CharField(
        label=_("Unified social credit code"),
        max_length=30,
        help_text=_("18 characters, as printed on the business licence."),
    )


class AgentAuthoriseForm(forms.Form):
    """授权经办人: who, for which items, from when to when."""

    agent_email = forms.EmailField(
        label=_("Agent's e-mail address"),
        help_text=_("The agent's account must be real-name verified."),
    )
    scope = forms.ChoiceField(
        label=_("Scope"), choices=AuthorisationScope.choices, initial=AuthorisationScope.ALL, widget=forms.RadioSelect
    )
    item_codes = forms.CharField(
        label=_("Implementation codes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For listed items only: one implementation code (实施编码) per line."),
    )
    valid_from = forms.DateField(label=_("Valid from"), help_text=_("Format: 2026-01-31"))
    valid_to = forms.DateField(
        label=_("Valid until"), required=False, help_text=_("Leave empty for an authorisation until revoked.")
    )

    def item_code_list(self) -> list[str]:
        return [code.strip() for code in self.cleaned_data.get("item_codes", "").replace(",", "\n").splitlines()]


class AgentRevokeForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class PrivacyConsentSignupForm(forms.Form):
    """Extra field of allauth's signup form: consent to the current privacy notice (PIPL)."""

    privacy_consent = forms.BooleanField(
        label=_("I have read and agree to the privacy notice"),
        help_text=_("The privacy notice is at /privacy/: what we keep about you, why, and for how long."),
        required=True,
        error_messages={"required": _("Please read the privacy notice and agree to it to create an account.")},
    )

    def signup(self, request: HttpRequest, user: User) -> None:
        """Called by allauth once the account exists: record which notice was agreed to."""
        actions.user_consent_privacy(user_id=user.pk)


class PrivacyConsentForm(forms.Form):
    privacy_consent = forms.BooleanField(
        label=_("I have read and agree to the privacy notice"),
        required=True,
        error_messages={"required": _("Please agree to the privacy notice to go on using your account.")},
    )


class CounterConfirmForm(forms.Form):
    """高级实名 at the counter: the clerk types what the document in front of them says."""

    email = forms.EmailField(label=_("E-mail address of the account"))
    id_type = forms.ChoiceField(
        label=_("Identity document type"), choices=IdentityType.choices, initial=IdentityType.RESIDENT_ID
    )
    id_number = forms.CharField(label=_("Identity document number"), max_length=40)
