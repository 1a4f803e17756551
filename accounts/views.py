"""The user's own account pages: /me/ and the real-name upgrade."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from urllib.parse import urlencode

from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts import account_page, actions, face_check, real_name, selectors
from accounts.decorators import platform_admin_required_with_mfa, staff_member_required_with_mfa
from accounts.forms import (
    AgentAuthoriseForm,
    AgentRevokeForm,
    CounterConfirmForm,
    EnterpriseClaimForm,
    PrivacyConsentForm,
    RealNameForm,
)
from accounts.models import FaceCheck, RealNameLevel
from core import crypto
from core.addresses import client_address
from core.errors import DomainError, TooManyAttempts
from datahub.identity import mask_name, mask_phone

logger = logging.getLogger(__name__)


FACE_CHECK_NEXT_SESSION_KEY = "face_check_next"


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
        "is_platform_admin": selectors.is_platform_admin(user),
        "enterprises": selectors.enterprises_acting_for(user),
        "acting_for": selectors.acting_for(request),
        "sections": account_page.sections_for(request, user),
    }
    return render(request, "accounts/me.html", context)


@never_cache
@login_required
@require_http_methods(["GET"])
def household(request: HttpRequest) -> HttpResponse:
    """The minors a parent may act for: the registry is read (and logged) only when asked for."""
    user = selectors.user_for_owner(request.user)
    context = {
        # Masked even for the parent: the page may be seen over a shoulder, and forms show the child whole.
        "minors": [
            {"name": mask_name(child.name), "age": child.age_on(timezone.localdate())}
            for child in selectors.household_minors(user=user)
        ],
        "is_verified": user.real_name_level >= RealNameLevel.BASIC,
    }
    return render(request, "accounts/household.html", context)


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
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            real_name.user_verify_real_name(
                user_id=user.pk,
                full_name=form.cleaned_data["full_name"],
                id_type=form.cleaned_data["id_type"],
                id_number=form.cleaned_data["id_number"],
                phone=form.cleaned_data["phone"],
                actor=request.user,  # type: ignore[arg-type]
                address=client_address(request),
            )
        except DomainError as error:
            # Field problems appear next to their field (and in the summary); the rest at the top.
            for field, messages in error.fields.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
            if not error.fields:
                problem = str(error.message)
            if isinstance(error, TooManyAttempts):
                status = error.status
        else:
            return HttpResponseRedirect(next_url or reverse("accounts:me"))
    context = {
        "form": form,
        "problem": problem,
        "next_url": next_url,
        "sections": account_page.verify_sections_for(request, user),
    }
    return render(request, "accounts/verify.html", context, status=status)


def _show_domain_error(form: django_forms.Form, error: DomainError) -> str:
    """Put field problems next to their field; return the message for the top of the page otherwise."""
    for field, field_messages in error.fields.items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)
    return "" if error.fields else str(error.message)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def acting_for(request: HttpRequest) -> HttpResponse:
    """Choose, explicitly, whether to act as oneself or for one of one's enterprises in this session."""
    if request.method == "POST":
        choice = request.POST.get("enterprise", "")
        if choice in ("", "self"):
            request.session.pop(selectors.ACTING_FOR_SESSION_KEY, None)
        else:
            if not choice.isdigit():
                raise DomainError(_("Choose yourself or one of the enterprises listed."), code="acting_for")
            enterprise = selectors.enterprise_for_acting(user=request.user, enterprise_id=int(choice))
            request.session[selectors.ACTING_FOR_SESSION_KEY] = enterprise.pk
        return HttpResponseRedirect(_safe_next(request) or reverse("accounts:acting_for"))
    context = {
        "enterprises": selectors.enterprises_acting_for(request.user),
        "current": selectors.acting_for(request),
        "next_url": _safe_next(request),
    }
    return render(request, "accounts/acting_for.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def enterprise_claim(request: HttpRequest) -> HttpResponse:
    """法人认领: the legal representative claims their enterprise, confirmed by the legal-person registry."""
    user = selectors.user_for_owner(request.user)
    form = EnterpriseClaimForm(request.POST or None)
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            enterprise = actions.enterprise_claim(uscc=form.cleaned_data["uscc"], actor=user)
        except DomainError as error:
            problem = _show_domain_error(form, error)
        else:
            messages.success(request, _("You have claimed %(name)s.") % {"name": enterprise.name})
            return HttpResponseRedirect(reverse("accounts:enterprise", args=[enterprise.pk]))
    context = {"form": form, "problem": problem, "is_verified": user.real_name_level >= RealNameLevel.BASIC}
    return render(request, "accounts/enterprise_claim.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def enterprise(request: HttpRequest, enterprise_id: int) -> HttpResponse:
    """The legal representative's page of their enterprise: its agents, and a form to authorise another."""
    company = selectors.enterprise_for_representative(user=request.user, enterprise_id=enterprise_id)
    form = AgentAuthoriseForm(request.POST or None, initial={"valid_from": timezone.localdate()})
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            authorisation = actions.agent_authorise(
                enterprise_id=company.pk,
                agent_email=form.cleaned_data["agent_email"],
                scope=form.cleaned_data["scope"],
                item_codes=form.item_code_list(),
                valid_from=form.cleaned_data["valid_from"],
                valid_to=form.cleaned_data["valid_to"],
                actor=selectors.user_for_owner(request.user),
            )
        except DomainError as error:
            problem = _show_domain_error(form, error)
        else:
            messages.success(
                request, _("%(agent)s may now act for this enterprise.") % {"agent": authorisation.agent.masked_name}
            )
            return HttpResponseRedirect(reverse("accounts:enterprise", args=[company.pk]))
    today = timezone.localdate()
    authorisations = [
        (authorisation, authorisation.is_active_on(today)) for authorisation in selectors.authorisations_of(company)
    ]
    context = {
        "enterprise": company,
        "authorisations": authorisations,
        "form": form,
        "revoke_form": AgentRevokeForm(),
        "problem": problem,
    }
    return render(request, "accounts/enterprise.html", context)


@login_required
@require_http_methods(["POST"])
def authorisation_revoke(request: HttpRequest, enterprise_id: int, authorisation_id: int) -> HttpResponse:
    """The legal representative revokes an agent's authorisation."""
    company = selectors.enterprise_for_representative(user=request.user, enterprise_id=enterprise_id)
    form = AgentRevokeForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        actions.agent_revoke(
            authorisation_id=authorisation_id, actor=selectors.user_for_owner(request.user), reason=reason
        )
    except DomainError as error:
        if error.status == 404:
            raise
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The authorisation is revoked."))
    return HttpResponseRedirect(reverse("accounts:enterprise", args=[company.pk]))


@require_http_methods(["GET"])
def privacy_notice(request: HttpRequest) -> HttpResponse:
    """The privacy notice itself, readable by anyone."""
    return render(request, "accounts/privacy_notice.html", {"version": settings.PRIVACY_NOTICE_VERSION})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def privacy_consent(request: HttpRequest) -> HttpResponse:
    """Ask for consent to a new version of the privacy notice, then go back where the person was going."""
    form = PrivacyConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.user_consent_privacy(user_id=selectors.user_for_owner(request.user).pk)
        return HttpResponseRedirect(_safe_next(request) or reverse("accounts:me"))
    context = {"form": form, "version": settings.PRIVACY_NOTICE_VERSION, "next": _safe_next(request)}
    return render(request, "accounts/privacy_consent.html", context)


@never_cache
@platform_admin_required_with_mfa
@require_http_methods(["GET"])
def sms_outbox(request: HttpRequest) -> HttpResponse:
    """The demo SMS outbox: what the demo sender would have texted, numbers masked, codes readable.

    Platform admins only: the codes in it would let a clerk take over anyone's sign-up or number.
    """
    messages_sent = [
        {"phone": mask_phone(message.phone), "text": message.text, "sent_at": message.sent_at}
        for message in selectors.sms_outbox_latest()
    ]
    context = {"messages_sent": messages_sent, "page_size": selectors.SMS_OUTBOX_PAGE_SIZE}
    return render(request, "accounts/sms_outbox.html", context)


@never_cache
@staff_member_required_with_mfa
@require_http_methods(["GET", "POST"])
def counter_confirm(request: HttpRequest) -> HttpResponse:
    """A clerk confirms, at the counter, the identity of a person whose document they have seen (高级实名)."""
    form = CounterConfirmForm(request.POST or None)
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            person = real_name.user_confirm_at_counter(
                email=form.cleaned_data["email"],
                id_type=form.cleaned_data["id_type"],
                id_number=form.cleaned_data["id_number"],
                clerk=selectors.user_for_owner(request.user),
            )
        except DomainError as error:
            problem = _show_domain_error(form, error)
        else:
            messages.success(
                request, _("%(name)s now has advanced real-name verification.") % {"name": person.masked_name}
            )
            return HttpResponseRedirect(reverse("accounts:counter_confirm"))
    return render(request, "accounts/counter_confirm.html", {"form": form, "problem": problem})


# --- 高级实名 by a face check (accounts.face_check) ---


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def face_check_page(request: HttpRequest) -> HttpResponse:
    """What the face check is; its button opens a check with the provider and sends the person there."""
    user = selectors.user_for_owner(request.user)
    problem = ""
    if _safe_next(request):
        # Where to go on once the check passed (the application that asked for level 3).
        request.session[FACE_CHECK_NEXT_SESSION_KEY] = _safe_next(request)
    if request.method == "POST":
        try:
            _check, provider_url = real_name.face_check_start(
                user=user, return_url=request.build_absolute_uri(reverse("accounts:face_check_return"))
            )
        except DomainError as error:
            problem = str(error.message)
        else:
            return HttpResponseRedirect(provider_url)
    return render(request, "accounts/face_check.html", {"account": user, "problem": problem})


def _take_face_check_result(body: bytes, headers: Mapping[str, str]) -> FaceCheck:
    """A provider's result as it arrives: its signature checked by the provider class, then taken."""
    result = face_check.face_check_provider().parse_result(body, headers)
    return real_name.face_check_complete(result=result)


@csrf_exempt  # the provider's server posts here, signing the body instead
@never_cache
@require_http_methods(["POST"])
def face_check_callback(request: HttpRequest) -> HttpResponse:
    """The provider tells the result of a check (machine to machine); answered in JSON, 400 when refused."""
    try:
        check = _take_face_check_result(request.body, request.headers)
    except DomainError as error:
        logger.warning("face-check callback refused: %s", error.code)
        return JsonResponse({"error": error.code, "message": str(error.message)}, status=400)
    return JsonResponse({"check_id": str(check.pk), "status": check.status})


@never_cache
@login_required
@require_http_methods(["GET"])
def face_check_return(request: HttpRequest) -> HttpResponse:
    """Where the provider sends the person back: the state of their own check, as the portal recorded it."""
    check = face_check.face_check_of(user=request.user, check_id=request.GET.get("check", ""))
    status = FaceCheck.Status.EXPIRED if check.is_overdue(timezone.now()) else check.status
    context = {
        "check": check,
        "status": status,
        "statuses": FaceCheck.Status,
        "next_url": request.session.get(FACE_CHECK_NEXT_SESSION_KEY, ""),
    }
    return render(request, "accounts/face_check_return.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def face_check_demo(request: HttpRequest, check_id: uuid.UUID) -> HttpResponse:
    """The demo provider's page (DEBUG or FACE_CHECK_DEMO only): the person chooses the outcome.

    The choice travels as a real result does: a body signed by the provider, taken by the
    same code as the callback; then the person goes back to the portal's return page.
    """
    if not face_check.is_demo_enabled():
        raise Http404
    check = face_check.face_check_of(user=request.user, check_id=str(check_id))
    return_url = request.POST.get("return_url") or request.GET.get("return_url") or ""
    if not url_has_allowed_host_and_scheme(
        return_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return_url = f"{reverse('accounts:face_check_return')}?{urlencode({'check': str(check.pk)})}"
    if request.method == "POST":
        outcome = request.POST.get("outcome", "")
        if outcome not in (face_check.RESULT_MATCH, face_check.RESULT_NO_MATCH):
            raise DomainError(_("Choose whether the demo face check passes or fails."), code="demo_outcome")
        body, headers = face_check.DemoFaceCheckProvider().signed_result(
            check_id=str(check.pk), passed=outcome == face_check.RESULT_MATCH
        )
        _take_face_check_result(body, headers)
        return HttpResponseRedirect(return_url)
    context = {"check": check, "masked_name": check.user.masked_name, "return_url": return_url}
    return render(request, "accounts/face_check_demo.html", context)
