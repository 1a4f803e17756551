"""Where the portal answers at allauth's own paths (accounts.allauth_urls, placed before allauth's in the URLconf).

Each is allauth's view with one rule added that allauth leaves to the project:
- the e-mail code page's "resend" says how long to wait instead of failing, and never counts as a wrong code;
- a staff member's first TOTP through the app API needs the enrolment code, as the web page does;
- a failed redemption of an OpenID Connect authorization code burns the code (RFC 6749 §4.1.2, §10.5).
"""

from __future__ import annotations

import logging
from typing import Any

from allauth.account.views import ConfirmEmailVerificationCodeView
from allauth.headless.mfa.views import ManageTOTPView
from allauth.idp.oidc import views as oidc_views
from allauth.idp.oidc.models import Token
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from accounts.mfa_forms import StaffActivateTOTPInput
from accounts.ratelimits import wait_seconds

logger = logging.getLogger(__name__)

# Where allauth's token endpoint keeps, on the request, the authorization codes it looked up and locked.
_OIDC_VALIDATOR_CONTEXT = "_oauthlib_request_validator_context"


@method_decorator(login_not_required, name="dispatch")
class EmailCodeConfirmView(ConfirmEmailVerificationCodeView):
    """allauth's e-mail code page: "resend" mails a new code within allauth's limit, else it says how long to wait."""

    def _resend_wait(self) -> int:
        return wait_seconds(self.request, action="confirm_email", key=self._process.email.lower())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["resend_wait"] = self._resend_wait() if context["can_resend"] else 0
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.POST.get("action") != "resend":
            return super().post(request, *args, **kwargs)
        # allauth takes a resend it does not offer (any more) for a code, and counts it as a wrong one.
        if not self._process.can_resend:
            messages.error(request, _("No more new codes can be sent now. Enter the last code you received."))
        elif seconds := self._resend_wait():
            messages.error(
                request, _("Please wait %(seconds)d seconds before asking for a new code.") % {"seconds": seconds}
            )
        else:
            return super().post(request, *args, **kwargs)
        return HttpResponseRedirect(self.passthrough_next_url(reverse("account_email_verification_sent")))


class StaffManageTOTPView(ManageTOTPView):
    """allauth's app API for TOTP; activating a staff member's first authenticator needs ``enrolment_code``."""

    input_class = {"POST": StaffActivateTOTPInput}


@csrf_exempt  # called by departments' servers, authenticated by the client's credentials (as allauth's is)
@login_not_required
def oidc_token(request: HttpRequest) -> HttpResponse:
    """allauth's token endpoint; an authorization code whose redemption failed cannot be redeemed afterwards.

    allauth (through oauthlib) leaves a code usable after a wrong PKCE verifier or redirect URI, so
    whoever intercepted it could keep guessing. The code row stays locked from allauth's lookup to
    the delete, in one transaction, so no right verifier can slip in between.
    """
    with transaction.atomic():
        response: HttpResponse = oidc_views.token(request)
        if response.status_code >= 400:
            context = getattr(request, _OIDC_VALIDATOR_CONTEXT, None)
            looked_up = list(getattr(context, "code_tokens", {}).values())
            # A code already claimed is a replay: allauth revokes what it gave and keeps the code to see more.
            unclaimed = [token.pk for token in looked_up if token is not None and not (token.data or {}).get("claimed")]
            if unclaimed:
                Token.objects.filter(pk__in=unclaimed, type=Token.Type.AUTHORIZATION_CODE).delete()
                logger.warning(
                    "OIDC authorization code burnt after a failed redemption",
                    extra={"client_id": request.POST.get("client_id", ""), "status": response.status_code},
                )
    return response
