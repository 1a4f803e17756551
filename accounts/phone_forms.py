"""allauth's phone forms, changed for recycled numbers: whoever proves they hold a number by its SMS code gets it.

allauth refuses a number another account has verified. Mainland operators give numbers that were
given up to new subscribers, so the portal lets the new holder verify it; the number then moves
(``actions.user_phone_verify``) and the former account is told. Kept apart from ``accounts.forms``,
which allauth's own forms module imports (ACCOUNT_SIGNUP_FORM_CLASS).
"""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from allauth.account.forms import BaseConfirmCodeForm, ChangePhoneForm, SignupForm, VerifyPhoneForm


class PhoneSignupForm(SignupForm):
    def _clean_phone(self) -> None:
        # A number verified by another account does not stop the signup: the SMS code decides who holds it.
        return None


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
