from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

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
