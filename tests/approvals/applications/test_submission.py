"""Submitting an application: its number, query password, idempotency; and nobody else's application."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.urls import reverse

from approvals import journal
from approvals.applications import numbering, selectors, submission
from approvals.models import (
    ApplicationEvent,
    Attachment,
    IdempotencyRecord,
    NumberSequence,
    Outbox,
)
from core import crypto
from core.errors import Conflict, DomainError, NotFound
from interaction.models import Message
from services import actions as service_actions
from tests.approvals.applications.helpers import (
    AFTER_MIDNIGHT_IN_SHANGHAI,
    DRAFT_ACTIONS,
    SHANGHAI_DAY,
    SUBMITTED_ACTIONS,
    events_of,
    request_supplement,
    row,
    stored_files,
)
from tests.approvals.builders import (
    ready_draft,
    submitted,
)
from tests.approvals.helpers import inbox
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


# --- Submission -----------------------------------------------------------------------


def test_the_number_is_the_code_the_shanghai_date_and_a_daily_sequence(item, citizen, clock):
    first, _response = submission.application_submit(application_id=ready_draft(citizen, item).pk, user=citizen)
    second, _response = submission.application_submit(application_id=ready_draft(citizen, item).pk, user=citizen)

    assert first.number == f"{item.implementation_code}202603100001"
    assert second.number == f"{item.implementation_code}202603100002"
    assert len(first.number) == 43
    assert list(NumberSequence.objects.values_list("implementation_code", "day", "last")) == [
        (item.implementation_code, SHANGHAI_DAY, 2)
    ]
    assert row(first)["submitted_at"] == AFTER_MIDNIGHT_IN_SHANGHAI
    assert row(first)["draft_expires_at"] is None


def test_the_query_password_is_six_digits_kept_hashed_and_encrypted(item, citizen):
    application, response = submission.application_submit(application_id=ready_draft(citizen, item).pk, user=citizen)

    password = response["query_password"]
    stored = row(application)
    assert len(password) == 6
    assert password.isdigit()
    assert stored["query_password_hash"] not in ("", password)
    assert stored["query_password_hash"] == numbering.query_password_hash(application.number, password)
    assert password not in stored["query_password_encrypted"]
    assert crypto.decrypt(stored["query_password_encrypted"]) == password
    assert response == {
        "id": str(application.public_id),
        "number": application.number,
        "status": "submitted",
        "query_password": password,
    }


def test_submitting_records_the_event_the_routing_promise_the_message_and_the_applicant(item, citizen):
    draft = ready_draft(citizen, item)

    application, _response = submission.application_submit(application_id=draft.pk, user=citizen)

    stored = row(application)
    assert (stored["status"], stored["applicant_name"], stored["applicant_id_masked"]) == (
        "submitted",
        "王小明",
        citizen.id_number_masked,
    )
    assert list(Outbox.objects.values_list("kind", "application_id", "processed_at", "attempts")) == [
        ("route", application.pk, None, 0)
    ]
    submitted_event = ApplicationEvent.objects.get(application=application, action="submitted")
    assert (submitted_event.actor_id, submitted_event.old_status, submitted_event.new_status) == (
        citizen.pk,
        "draft",
        "submitted",
    )
    assert inbox("application_submitted") == [
        (
            citizen.pk,
            {
                "number": application.number,
                "service_name": "居住证明开具",
                "url": reverse("approvals:application", kwargs={"number": application.number}),
            },
        )
    ]


def test_the_number_the_routing_promise_and_the_message_commit_together_or_not_at_all(item, citizen, monkeypatch):
    draft = ready_draft(citizen, item)
    before = row(draft)

    def inbox_down(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("inbox unavailable")

    monkeypatch.setattr(journal, "notify", inbox_down)
    with pytest.raises(RuntimeError):
        submission.application_submit(application_id=draft.pk, user=citizen)

    assert row(draft) == before
    assert Outbox.objects.count() == 0
    assert NumberSequence.objects.count() == 0
    assert events_of(draft) == ["created", "prefilled"]


def test_submitting_again_without_a_key_gives_the_same_answer_and_creates_nothing(item, citizen):
    application, first = submission.application_submit(application_id=ready_draft(citizen, item).pk, user=citizen)
    counts = (Outbox.objects.count(), ApplicationEvent.objects.count(), Message.objects.count())

    again, second = submission.application_submit(application_id=application.pk, user=citizen)

    assert second == first
    assert again.pk == application.pk
    assert (Outbox.objects.count(), ApplicationEvent.objects.count(), Message.objects.count()) == counts
    assert NumberSequence.objects.get().last == 1


def test_a_repeated_key_gives_the_first_answer_and_the_same_key_for_another_request_is_refused(item, citizen):
    draft = ready_draft(citizen, item)
    other = ready_draft(citizen, item)
    fingerprint = submission.request_fingerprint({"id": str(draft.public_id)})

    _application, first = submission.application_submit(
        application_id=draft.pk, user=citizen, idempotency_key="key-1", request_hash=fingerprint
    )
    _application, repeated = submission.application_submit(
        application_id=draft.pk, user=citizen, idempotency_key="key-1", request_hash=fingerprint
    )
    with pytest.raises(Conflict) as raised:
        submission.application_submit(
            application_id=other.pk,
            user=citizen,
            idempotency_key="key-1",
            request_hash=submission.request_fingerprint({"id": str(other.public_id)}),
        )

    assert repeated == first
    assert raised.value.code == "idempotency_key_reused"
    assert row(other)["status"] == "draft"
    assert list(IdempotencyRecord.objects.values_list("key", "application_id")) == [("key-1", draft.pk)]
    assert Outbox.objects.count() == 1


def test_past_9999_numbers_a_day_submission_is_refused_logged_and_rolled_back(item, citizen, clock, caplog):
    draft = ready_draft(citizen, item)
    NumberSequence.objects.create(implementation_code=item.implementation_code, day=SHANGHAI_DAY, last=9999)
    before = row(draft)

    with (
        caplog.at_level(logging.CRITICAL, logger="approvals.applications.numbering"),
        pytest.raises(DomainError) as raised,
    ):
        submission.application_submit(application_id=draft.pk, user=citizen)

    assert raised.value.code == "numbers_exhausted"
    critical = [record for record in caplog.records if record.levelno == logging.CRITICAL]
    assert [(record.name, record.getMessage()) for record in critical] == [
        ("approvals.applications.numbering", "application numbers exhausted")
    ]
    assert (critical[0].implementation_code, critical[0].day) == (item.implementation_code, "2026-03-10")
    assert row(draft) == before
    assert NumberSequence.objects.get().last == 9999
    assert Outbox.objects.count() == 0
    assert events_of(draft) == ["created", "prefilled"]
    assert Message.objects.count() == 0


def test_a_draft_whose_version_was_retired_in_between_is_not_submitted(item, citizen):
    draft = ready_draft(citizen, item)
    service_actions.item_retire(implementation_code=item.implementation_code, actor=UserFactory.create())

    with pytest.raises(Conflict) as raised:
        submission.application_submit(application_id=draft.pk, user=citizen)

    assert raised.value.code == "service_version_changed"
    assert raised.value.message == "This service has changed since you started. Open your draft again to continue."
    assert (row(draft)["status"], row(draft)["number"]) == ("draft", None)
    assert NumberSequence.objects.count() == 0


# --- Nobody else's --------------------------------------------------------------------------


def test_another_citizen_cannot_read_the_application_or_its_files(item, citizen, other_citizen):
    draft = ready_draft(citizen, item)
    attachment = Attachment.objects.get(application=draft)
    application = submitted(citizen, item)

    assert selectors.application_for_owner(citizen, public_id=str(draft.public_id)).pk == draft.pk
    assert selectors.application_for_owner(citizen, number=application.number).pk == application.pk
    assert selectors.attachment_for_owner(citizen, public_id=str(attachment.public_id)).pk == attachment.pk
    with pytest.raises(NotFound):
        selectors.application_for_owner(other_citizen, public_id=str(draft.public_id))
    with pytest.raises(NotFound):
        selectors.application_for_owner(other_citizen, number=application.number)
    with pytest.raises(NotFound):
        selectors.attachment_for_owner(other_citizen, public_id=str(attachment.public_id))


@pytest.mark.parametrize("action", sorted(DRAFT_ACTIONS))
def test_another_citizen_cannot_touch_the_draft(action, item, citizen, other_citizen, upload_root):
    draft = ready_draft(citizen, item)
    before = (row(draft), stored_files(upload_root), list(Attachment.objects.values()))

    with pytest.raises(NotFound):
        DRAFT_ACTIONS[action](draft, other_citizen)

    assert (row(draft), stored_files(upload_root), list(Attachment.objects.values())) == before


@pytest.mark.parametrize("action", sorted(SUBMITTED_ACTIONS))
def test_another_citizen_cannot_withdraw_or_supplement_the_application(
    action, item, citizen, other_citizen, clerk, department
):
    application = submitted(citizen, item)
    if action == "supplement":
        request_supplement(application, clerk, department)
    before = row(application)

    with pytest.raises(NotFound):
        SUBMITTED_ACTIONS[action](application, other_citizen)

    assert row(application) == before


def test_a_clerk_of_the_department_sees_the_files_once_submitted_and_a_clerk_elsewhere_never(
    item, citizen, clerk, other_clerk
):
    draft = ready_draft(citizen, item)
    public_id = str(Attachment.objects.get(application=draft).public_id)

    with pytest.raises(NotFound):
        selectors.attachment_for_staff(clerk, public_id=public_id)
    submission.application_submit(application_id=draft.pk, user=citizen)

    assert str(selectors.attachment_for_staff(clerk, public_id=public_id).public_id) == public_id
    with pytest.raises(NotFound):
        selectors.attachment_for_staff(other_clerk, public_id=public_id)
    with pytest.raises(NotFound):
        selectors.attachment_for_staff(citizen, public_id=public_id)
