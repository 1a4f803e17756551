"""The inbox pages under /me/messages/: the list, one message, mark all read; and the inbox's section of /me/."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.account_page import AccountSection
from accounts.models import User
from interaction import actions, selectors

PAGE_SIZE = 20


@never_cache
@login_required
@require_http_methods(["GET"])
def message_list(request: HttpRequest) -> HttpResponse:
    """The user's messages, newest first, unread ones marked; paginated in the database."""
    page = Paginator(selectors.messages_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "interaction/message_list.html", {"page": page})


@never_cache
@login_required
@require_http_methods(["GET"])
def message_detail(request: HttpRequest, message_id: int) -> HttpResponse:
    """One of the user's messages; showing it marks it read."""
    message = actions.message_mark_read(user=request.user, message_id=message_id)
    return render(request, "interaction/message_detail.html", {"message": message})


@login_required
@require_http_methods(["POST"])
def messages_read_all(request: HttpRequest) -> HttpResponse:
    """Mark every message read, then go back to the list."""
    actions.messages_mark_all_read(user=request.user)
    flash.success(request, _("All your messages are marked as read."))
    return HttpResponseRedirect(reverse("interaction:messages"))


def account_page_section(request: HttpRequest, user: User) -> AccountSection:
    """The account page's link to the inbox, with the unread count (connected in ``InteractionConfig.ready``)."""
    return AccountSection("interaction/_account_messages.html", {"owner": user})
