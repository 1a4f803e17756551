"""The user's own account pages: /me/ and the real-name upgrade."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts import actions, selectors
from accounts.forms import RealNameForm
from accounts.models import RealNameLevel
from portal import crypto
from portal.errors import DomainError


def _safe_next(request: HttpRequest) -> str:
    """The ``next`` parameter when it points into this site, else empty."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@never_cache
@login_required
@require_http_methods(["GET"])
def me(request: HttpRequest) -> HttpResponse:
    """The owner's account summary: their identity whole, since it is theirs."""
    user = selectors.user_for_owner(request.user)
    id_number = crypto.decrypt(user.id_number_encrypted) if user.id_number_encrypted else ""
    context = {
        "account": user,
        "id_number": id_number,
        "is_verified": user.real_name_level >= RealNameLevel.BASIC,
        "has_totp": selectors.has_totp(user),
        "is_staff_member": selectors.is_staff_member(user),
    }
    return render(request, "accounts/me.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """初级实名: the user's name, document and phone checked against the population registry."""
    user = selectors.user_for_owner(request.user)
    next_url = _safe_next(request)
    if user.real_name_level >= RealNameLevel.BASIC:
        return render(request, "accounts/verify_done.html", {"account": user, "next_url": next_url})
    form = RealNameForm(request.POST or None)
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            actions.user_verify_real_name(
                user_id=user.pk,
                full_name=form.cleaned_data["full_name"],
                id_type=form.cleaned_data["id_type"],
                id_number=form.cleaned_data["id_number"],
                phone=form.cleaned_data["phone"],
                actor=request.user,  # type: ignore[arg-type]
            )
        except DomainError as error:
            # Field problems appear next to their field (and in the summary); the rest at the top.
            for field, messages in error.fields.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
            if not error.fields:
                problem = str(error.message)
        else:
            return HttpResponseRedirect(next_url or reverse("accounts:me"))
    return render(request, "accounts/verify.html", {"form": form, "problem": problem, "next_url": next_url}, status=200)
