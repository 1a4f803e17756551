"""What the applicant's pages share: the signed-in user, redirects out of helpers, upgrade links, file downloads."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlencode

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect

from accounts import real_name
from accounts.models import User
from approvals import uploads
from services.models import ServiceItem


def user_of(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


class Redirect(Exception):
    def __init__(self, url: str) -> None:
        self.url = url


def redirecting(view: Any) -> Any:
    """Let helpers end a view with a redirect (a draft that was submitted in another tab)."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Redirect as redirect:
            return HttpResponseRedirect(redirect.url)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def upgrade_url(item: ServiceItem, user: User, back: str) -> str:
    """Where a user below the item's real-name level goes to upgrade, coming back to ``back`` afterwards."""
    return f"{real_name.next_step_path(user)}?{urlencode({'next': back})}"


def file_response(key: str, content_type: str, name: str) -> FileResponse:
    """A stored upload as a download, named for what its content was checked to be (not what its name said)."""
    response = FileResponse(
        io.BytesIO(uploads.load(key)),
        content_type=content_type,
        as_attachment=True,
        filename=uploads.download_name(name, content_type),
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
