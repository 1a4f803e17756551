"""Which formal document (文书) an event issues, and its number (文号), given once when the event is recorded.

A 文号 is ``<机关代字><类别字>〔<year>〕<serial>号`` (西湖民准〔2026〕17号): the department's
机关代字 (its short name, or its name, when it has none), a character for the kind
of document (受 受理, 补 补正, 准 准予, 不受 不予受理, 不准 不予), the year of issue
(Asia/Shanghai), and a serial that counts that department's documents of that
kind in that year from 1, without gaps or duplicates: the counter's row is raised
by one atomic upsert, and the number is written in the same transaction as the
event, so a rolled-back decision gives its serial back. A document is numbered
once: an event that repeats a document the application already has (routing
running twice) takes no second serial.

The journal calls down into this module; the documents part reads the numbers back.
"""

from __future__ import annotations

from django.db import connection

from approvals.models import Application, ApplicationEvent, DocumentNumber, Outcome
from core import calendar

Event = ApplicationEvent.Action

ACCEPTANCE = "acceptance"
NON_ACCEPTANCE = "non-acceptance"
SUPPLEMENT = "supplement"
GRANT = "grant"
REFUSAL = "refusal"

_DECISIONS = {
    Outcome.ISSUED: (GRANT, "准"),
    Outcome.NOT_ACCEPTED: (NON_ACCEPTANCE, "不受"),
    Outcome.REFUSED: (REFUSAL, "不准"),
}


def document_kind(event: ApplicationEvent) -> tuple[str, str] | None:
    """The document the event issues, as its slug and its category character; None for an event that issues none."""
    if event.action == Event.ACCEPTED:
        return ACCEPTANCE, "受"
    if event.action == Event.SUPPLEMENT_REQUESTED:
        return f"{SUPPLEMENT}-{event.pk}", "补"
    if event.action == Event.APPROVED_ON_TRUST:
        return GRANT, "准"
    if event.action == Event.DECIDED:
        return _DECISIONS.get(event.details.get("outcome"))
    return None


def next_serial(department_id: int, year: int, category: str) -> int:
    """The department's next serial for this kind of document and year: one atomic upsert (PostgreSQL and SQLite)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO approvals_documentsequence (department_id, year, category, last) VALUES (%s, %s, %s, 1) "
            "ON CONFLICT (department_id, year, category) DO UPDATE SET last = approvals_documentsequence.last + 1 "
            "RETURNING last",
            [department_id, year, category],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def number_document(event: ApplicationEvent) -> DocumentNumber | None:
    """Give the document the event issues its 文号 (call in the event's transaction); None when it issues none.

    The application's row is locked first, so that two transactions issuing the same document
    one after the other find the first one's number instead of taking a serial each.
    """
    found = document_kind(event)
    if found is None:
        return None
    kind, category = found
    application = event.application
    Application.objects.select_for_update().filter(pk=application.pk).values_list("pk", flat=True).first()
    existing = DocumentNumber.objects.filter(application_id=application.pk, kind=kind).first()
    if existing is not None:
        return existing
    department = application.department
    year = calendar.local_day(event.at).year
    serial = next_serial(department.pk, year, category)
    code = department.document_code or department.short_name or department.name
    return DocumentNumber.objects.create(
        application_id=application.pk,
        kind=kind,
        department_id=department.pk,
        year=year,
        category=category,
        sequence=serial,
        number=f"{code}{category}〔{year}〕{serial}号",
    )
