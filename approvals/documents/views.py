"""Downloads of an application's formal documents (受理通知书, 补正通知书, decisions) as PDFs.

The applicant downloads them from the application page; the staff of the handling
department from the workbench, and each staff download is logged.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from accounts.decorators import staff_member_required_with_mfa
from approvals.applications import selectors
from approvals.documents import notices
from approvals.documents import selectors as document_selectors
from approvals.models import Application

logger = logging.getLogger(__name__)


def _pdf_response(application: Application, kind: str) -> HttpResponse:
    """The document as an attachment: an ASCII file name for old clients, the Chinese one for the rest."""
    document = notices.document_for(application, kind)
    response = HttpResponse(notices.render_pdf(application, document), content_type="application/pdf")
    response["Content-Disposition"] = (
        f"attachment; filename=\"{document.ascii_filename}\"; filename*=UTF-8''{quote(document.filename)}"
    )
    # Personal data: no shared cache keeps it, no browser cache either.
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_http_methods(["GET"])
def owner_document(request: HttpRequest, number: str, kind: str) -> HttpResponse:
    """A document of one of the user's applications, to its owner only (404 for anyone else)."""
    application = selectors.application_for_owner(request.user, number=number)
    return _pdf_response(application, kind)


@staff_member_required_with_mfa
@require_http_methods(["GET"])
def staff_document(request: HttpRequest, public_id: str, kind: str) -> HttpResponse:
    """A document of an application one of the clerk's departments handles; every download is logged."""
    application = document_selectors.application_for_staff(request.user, public_id=str(public_id))
    response = _pdf_response(application, kind)
    # DESIGN §7 keeps each staff view of personal data; a model like AttachmentView should hold these.
    logger.info(
        "staff %s downloaded the %s document of application %s",
        request.user.pk,
        kind,
        application.pk,
        extra={"viewer_id": request.user.pk, "application_id": application.pk, "document": kind},
    )
    return response
