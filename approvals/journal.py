"""The application's journal: every change appends an event, and the applicant is told what concerns them.

Every part of approvals calls down into this module; it imports none of them.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import override

from accounts.models import User
from approvals.document_numbers import number_document
from approvals.models import Application, ApplicationEvent
from interaction.actions import notify


def record_event(
    application: Application,
    action: str,
    *,
    actor: User | None,
    old_status: str = "",
    new_status: str = "",
    note: str = "",
    details: dict[str, Any] | None = None,
    department_id: int | None = None,
    actor_label: str = "",
) -> ApplicationEvent:
    """Append one entry to the application's timeline (call inside the action's transaction).

    An event that issues a formal document gives the document its number here, in the same transaction.
    """
    event = ApplicationEvent.objects.create(
        application=application,
        action=action,
        actor=actor,
        actor_label=actor_label,
        department_id=department_id,
        old_status=old_status,
        new_status=new_status,
        note=note,
        details=details or {},
    )
    number_document(event)
    return event


def application_url(application: Application) -> str:
    if application.number:
        return reverse("approvals:application", kwargs={"number": application.number})
    return reverse("approvals:draft", kwargs={"public_id": application.public_id})


def notify_applicant(application: Application, event: str, **context: Any) -> None:
    if application.applicant_id is None:
        return
    with override(None):
        service_name = application.service.name
    notify(
        application.applicant_id,
        event,
        {
            "number": application.number or "",
            "service_name": service_name,
            "url": application_url(application),
            **context,
        },
    )
