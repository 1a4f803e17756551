"""allauth's phone forms, changed for recycled numbers: whoever proves they hold a number by its SMS code gets it.

allauth refuses a number another account has verified. Mainland operators give numbers that were
given up to new subscribers, so the portal lets the new holder verify it; the number then moves
(``phone_numbers.user_phone_verify``) and the former account is told. Kept apart from ``accounts.forms``,
which allauth's own forms module imports (ACCOUNT_SIGNUP_FORM_CLASS).
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.forms import BaseConfirmCodeForm, ChangePhoneForm, SignupForm, VerifyPhoneForm
from allauth.core import context
from django.utils.translation import gettext

from accounts.ratelimits import wait_seconds


def sms_wait_message(seconds: int) -> str:
    return gettext("Too many text messages were requested. Please try again in %(seconds)d seconds.") % {
        "seconds": seconds
    }


class PhoneSignupForm(SignupForm):
    def _clean_phone(self) -> None:
        # A number verified by another account does not stop the signup: the SMS code decides who holds it.
        return None

    def clean(self) -> dict[str, Any]:
        cleaned_data: dict[str, Any] = super().clean()
        phone = cleaned_data.get("phone")
        if phone and not self.errors:
            # The account is made before its SMS code is sent: when allauth's SMS limit (per number and per
            # address) would refuse that code, say so now, before anything is written.
            seconds = wait_seconds(context.request, action="verify_phone", key=phone)
            if seconds:
                self.add_error("phone", sms_wait_message(seconds))
        return cleaned_data


class RecycledPhoneVerifyForm(VerifyPhoneForm):
    def clean_code(self) -> str:
        code: str = BaseConfirmCodeForm.clean_code(self)
        return code


class RecycledPhoneChangeForm(ChangePhoneForm):
    def clean_phone(self) -> str:
        phone: str = self.cleaned_data["phone"]
        if phone == self.phone:
            raise get_adapter().validation_error("same_as_current")
        self.account_already_exists = False
        return phone
