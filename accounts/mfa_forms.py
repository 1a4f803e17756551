"""allauth's TOTP activation, with a staff member's first authenticator tied to a one-time enrolment code.

A leaked password must not be enough to become a clerk: a staff account without any authenticator
enrols TOTP only with the code a platform administrator issued to it (``enrolment.staff_enrolment_code_issue``).
The web page (MFA_FORMS) and the app API (``accounts.allauth_views.StaffManageTOTPView``) both use it.
"""

from __future__ import annotations

from typing import Any

from allauth.account.internal.flows.reauthentication import raise_if_reauthentication_required
from allauth.core import context
from allauth.headless.mfa.inputs import ActivateTOTPInput
from allauth.mfa.totp.forms import ActivateTOTPForm
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts import enrolment, selectors
from core.errors import DomainError


class EnrolmentCodeMixin(forms.Form):
    enrolment_code = forms.CharField(
        label=_("Enrolment code"),
        max_length=40,
        help_text=_(
            "Staff accounts: the one-time code a platform administrator issued to you for your first authenticator."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.needs_enrolment_code = selectors.needs_enrolment_code(self.user)  # type: ignore[attr-defined]
        if not self.needs_enrolment_code:
            del self.fields["enrolment_code"]

    def clean(self) -> dict[str, Any]:
        cleaned_data: dict[str, Any] = super().clean() or {}
        if self.needs_enrolment_code and not self.errors:
            # Spent only once everything else holds, and only when activation follows in this request.
            raise_if_reauthentication_required(context.request, app="allauth.mfa")
            try:
                enrolment.staff_enrolment_code_use(
                    user_id=self.user.pk,  # type: ignore[attr-defined]
                    code=cleaned_data["enrolment_code"],
                )
            except DomainError as error:
                self.add_error("enrolment_code", str(error.message))
        return cleaned_data


class StaffActivateTOTPForm(EnrolmentCodeMixin, ActivateTOTPForm):
    """The activation page's form (MFA_FORMS["activate_totp"])."""


class StaffActivateTOTPInput(EnrolmentCodeMixin, ActivateTOTPInput):
    """The app API's activation input: ``{"code": "123456", "enrolment_code": "ABCD-EFGH-JKLM"}``."""
