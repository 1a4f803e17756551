"""The other party's pages: the applications waiting for their confirmation (待我确认), confirm or decline."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from approvals.applications import parties, tracking
from approvals.pages import user_of
from core.errors import Conflict


@never_cache
@login_required
def confirmations(request: HttpRequest) -> HttpResponse:
    """What others applied for together with this user, waiting for them to confirm or decline."""
    user = user_of(request)
    waiting = [
        {
            "party": party,
            "application": party.application,
            "others": [other for other in parties.parties_of(party.application) if other.pk != party.pk],
            "role": parties.role_label(party.role),
        }
        for party in parties.pending_for(user)[:50]
    ]
    confirmed = [party.application for party in parties.confirmed_by(user)[:50]]
    return render(
        request,
        "approvals/confirmations.html",
        {"waiting": waiting, "confirmed": confirmed, "is_verified": user.is_real_name_verified},
    )


@never_cache
@login_required
def party_application(request: HttpRequest, number: str) -> HttpResponse:
    """An application the user confirmed as the other party: its status and progress, as 办件查询 shows them.

    Not the applicant's page: no query password, answers or materials, and nothing to do; the parties
    (names and masked numbers) as the decision names them.
    """
    application = parties.application_for_party(user_of(request), number=number)
    context = {
        "application": application,
        "parties": [(parties.role_label(party.role), party) for party in parties.parties_of(application)],
        "events": tracking.public_timeline(application),
    }
    return render(request, "approvals/party_application.html", context)


def _answer(request: HttpRequest, number: str, *, confirm: bool) -> HttpResponse:
    user = user_of(request)
    try:
        if confirm:
            application = parties.party_confirm(number=number, user=user)
        else:
            application = parties.party_decline(number=number, user=user)
    except Conflict as error:
        messages.error(request, str(error.message))
        return HttpResponseRedirect(reverse("approvals:confirmations"))
    outcome, reason = parties.answer_outcome(application)
    if outcome == parties.OUTCOME_DECLINED:
        messages.success(request, _("You declined the application. The applicant has been told."))
    elif outcome == parties.OUTCOME_REFUSED:
        messages.error(request, _("The application cannot go ahead: %(reason)s") % {"reason": reason})
    elif outcome == parties.OUTCOME_ROUTED:
        messages.success(
            request,
            _(
                "You confirmed the application and the registry checks passed. Both of you go to the registry "
                "office together; the registrar decides there."
            ),
        )
    else:
        messages.success(request, _("You confirmed the application."))
    return HttpResponseRedirect(reverse("approvals:confirmations"))


@login_required
@require_POST
def confirm(request: HttpRequest, number: str) -> HttpResponse:
    return _answer(request, number, confirm=True)


@login_required
@require_POST
def decline(request: HttpRequest, number: str) -> HttpResponse:
    return _answer(request, number, confirm=False)
