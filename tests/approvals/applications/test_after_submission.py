"""After submission: withdrawal, 补正; and drafts that follow a new service version or expire."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals.applications import actions, submission
from approvals.models import (
    Application,
    ApplicationEvent,
    Attachment,
    Outbox,
)
from approvals.tasks import sweep_drafts
from core.errors import Conflict, DomainError, PermissionDenied
from core.queueing import send_task_now
from interaction.models import Message
from services import actions as service_actions
from tests.approvals.applications.helpers import (
    NOTE,
    PREFILLED,
    events_of,
    request_supplement,
    row,
    start,
    stored_files,
    version_2_changes,
)
from tests.approvals.builders import (
    pdf_upload,
    publish_new_version,
    ready_draft,
    submitted,
)
from tests.approvals.helpers import inbox, wait_for

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


# --- Withdrawal -------------------------------------------------------------------------------


def test_a_submitted_application_is_withdrawn_once(item, citizen):
    application = submitted(citizen, item)

    submission.application_withdraw(application_id=application.pk, user=citizen, reason="不再需要")
    with pytest.raises(Conflict) as raised:
        submission.application_withdraw(application_id=application.pk, user=citizen)

    assert raised.value.code == "wrong_status"
    assert raised.value.message == "This cannot be done now: the application is Withdrawn."
    stored = row(application)
    assert stored["status"] == "withdrawn"
    assert stored["withdrawn_at"] is not None
    withdrawn = ApplicationEvent.objects.filter(application=application, action="withdrawn")
    assert list(withdrawn.values_list("actor_id", "old_status", "new_status", "details")) == [
        (citizen.pk, "submitted", "withdrawn", {"reason": "不再需要"})
    ]
    assert [context["number"] for _recipient, context in inbox("application_withdrawn")] == [application.number]


def test_a_draft_cannot_be_withdrawn(item, citizen):
    draft = ready_draft(citizen, item)

    with pytest.raises(Conflict) as raised:
        submission.application_withdraw(application_id=draft.pk, user=citizen)

    assert raised.value.code == "wrong_status"
    assert row(draft)["status"] == "draft"


# --- Supplement (补正) -----------------------------------------------------------------------


def test_a_clerk_of_the_department_asks_for_answers_and_materials_at_once(item, citizen, clerk, department):
    application = submitted(citizen, item)

    request_supplement(application, clerk, department)

    stored = row(application)
    assert stored["status"] == "supplement_requested"
    assert stored["supplement_request"] == {"fields": ["reason"], "materials": ["photo"], "note": NOTE}
    event = ApplicationEvent.objects.get(application=application, action="supplement_requested")
    assert (event.actor_id, event.department_id, event.old_status, event.new_status, event.note) == (
        clerk.pk,
        department.pk,
        "submitted",
        "supplement_requested",
        NOTE,
    )
    assert inbox("application_supplement_requested") == [
        (
            citizen.pk,
            {
                "number": application.number,
                "service_name": "居住证明开具",
                "url": reverse("approvals:application", kwargs={"number": application.number}),
                "items": NOTE,
            },
        )
    ]


def test_a_clerk_of_another_department_cannot_ask_in_the_departments_name(item, citizen, other_clerk, department):
    application = submitted(citizen, item)
    before = row(application)

    with pytest.raises(PermissionDenied):
        request_supplement(application, other_clerk, department)

    assert row(application) == before
    assert events_of(application) == ["created", "prefilled", "submitted"]


def test_a_clerk_of_another_department_cannot_ask_in_their_own_departments_name(
    item, citizen, other_clerk, other_department
):
    application = submitted(citizen, item)

    with pytest.raises(PermissionDenied):
        request_supplement(application, other_clerk, other_department)

    assert row(application)["status"] == "submitted"


def test_the_applicant_cannot_change_what_was_not_asked_for(awaiting_supplement, citizen, upload_root):
    before = (row(awaiting_supplement), stored_files(upload_root), Attachment.objects.count())

    with pytest.raises(DomainError) as answer:
        submission.application_supplement(
            application_id=awaiting_supplement.pk,
            user=citizen,
            data={"reason": "新的事由：办理入学。", "phone": "13900001111"},
        )
    with pytest.raises(DomainError) as upload:
        actions.attachment_add(
            application_id=awaiting_supplement.pk, user=citizen, upload=pdf_upload(), material_code="proxy"
        )

    assert answer.value.code == "not_requested"
    assert answer.value.fields == {"phone": ["The department did not ask to change this."]}
    assert upload.value.code == "not_requested"
    assert (row(awaiting_supplement), stored_files(upload_root), Attachment.objects.count()) == before


def test_answering_without_a_new_file_for_the_requested_material_is_refused(awaiting_supplement, citizen):
    before = row(awaiting_supplement)

    with pytest.raises(DomainError) as raised:
        submission.application_supplement(
            application_id=awaiting_supplement.pk, user=citizen, data={"reason": "新的事由：办理入学。"}
        )

    assert raised.value.code == "validation_error"
    assert raised.value.fields == {"material.photo": ["Upload a new file for this material."]}
    assert row(awaiting_supplement) == before


def test_with_a_new_file_and_a_new_answer_the_application_goes_back_to_where_it_was_asked(awaiting_supplement, citizen):
    # asked before acceptance: it waits for acceptance again, and routing is promised once more
    old_photo = Attachment.objects.get(application=awaiting_supplement)
    expected_data = {**row(awaiting_supplement)["data"], "reason": "新的事由：办理入学。"}

    new_photo = actions.attachment_add(
        application_id=awaiting_supplement.pk, user=citizen, upload=pdf_upload("new.pdf"), material_code="photo"
    )
    submission.application_supplement(
        application_id=awaiting_supplement.pk, user=citizen, data={"reason": "新的事由：办理入学。"}
    )

    stored = row(awaiting_supplement)
    assert stored["status"] == "submitted"
    assert Outbox.objects.filter(application=awaiting_supplement, processed_at__isnull=True).count() == 2
    assert stored["data"] == expected_data
    assert events_of(awaiting_supplement) == [
        "created",
        "prefilled",
        "submitted",
        "supplement_requested",
        "supplemented",
    ]
    supplemented = ApplicationEvent.objects.get(application=awaiting_supplement, action="supplemented")
    assert (supplemented.old_status, supplemented.new_status, supplemented.details) == (
        "supplement_requested",
        "submitted",
        {"fields": ["reason"], "materials": ["photo"]},
    )
    current = Attachment.objects.filter(application=awaiting_supplement, replaced_at__isnull=True)
    assert list(current.values_list("pk", flat=True)) == [new_photo.pk]
    assert Attachment.objects.get(pk=old_photo.pk).replaced_at is not None


# --- A draft follows a new version of its service ---------------------------------------------


def test_a_draft_moves_to_the_new_version_keeping_the_answers_it_still_accepts(item, citizen, editors):
    draft = ready_draft(citizen, item)
    version_2 = publish_new_version(item, editor=editors[0], approver=editors[1], changes=version_2_changes())
    item.refresh_from_db()
    assert (item.status, version_2.status, version_2.version) == ("retired", "published", 2)

    actions.draft_follow_new_version(application_id=draft.pk)

    stored = row(draft)
    assert stored["service_id"] == version_2.pk
    assert stored["data"] == {**PREFILLED, "phone": "13712349050", "declaration": True}
    assert stored["prefilled"] == dict.fromkeys(PREFILLED, "population")
    assert stored["version_notice"] == (
        "The service was updated to version 2. 申请事由改为事实与理由；不再提供电子证照送达。 "
        "Please answer again: How you receive the result. "
        "New questions: Facts and reasons. "
        "No longer asked: Why you apply."
    )
    event = ApplicationEvent.objects.get(application=draft, action="version_changed")
    assert (event.actor_id, event.actor_label, event.details) == (
        None,
        "portal",
        {"from": 1, "to": 2, "dropped": ["reason"], "invalid": ["delivery"], "added": ["case_summary"]},
    )
    assert set(submission.submission_problems(Application.objects.get(pk=draft.pk))) == {"case_summary", "delivery"}


def test_a_draft_of_a_service_no_longer_offered_stays_and_says_to_start_again(item, citizen, editors):
    draft = ready_draft(citizen, item)
    service_actions.item_retire(implementation_code=item.implementation_code, actor=editors[0])
    before = row(draft)

    actions.draft_follow_new_version(application_id=draft.pk)

    stored = row(draft)
    assert stored["version_notice"] == "This service is no longer offered in this form. Please start a new application."
    assert {key: value for key, value in stored.items() if key not in ("version_notice", "updated_at")} == {
        key: value for key, value in before.items() if key not in ("version_notice", "updated_at")
    }
    assert "version_changed" not in events_of(draft)


def test_a_draft_stays_when_the_new_version_needs_a_higher_real_name_level(item, other_citizen, editors):
    draft = start(other_citizen, item)  # level 2
    publish_new_version(item, editor=editors[0], approver=editors[1], changes={"min_real_name_level": 3})

    actions.draft_follow_new_version(application_id=draft.pk)

    stored = row(draft)
    assert stored["service_id"] == item.pk
    assert stored["version_notice"] != ""


# --- Sweeping old drafts --------------------------------------------------------------------------


def test_a_draft_about_to_expire_gets_one_reminder_however_often_the_sweep_runs(item, citizen, settings):
    settings.DRAFT_REMINDER_DAYS = 3
    expiring = start(citizen, item)
    later = start(citizen, item)
    now = timezone.now()
    expires_at = now + datetime.timedelta(days=2)
    Application.objects.filter(pk=expiring.pk).update(draft_expires_at=expires_at)
    Application.objects.filter(pk=later.pk).update(draft_expires_at=now + datetime.timedelta(days=4))

    assert actions.drafts_sweep(now=now) == (1, 0)
    assert actions.drafts_sweep(now=now + datetime.timedelta(hours=1)) == (0, 0)

    assert inbox("draft_expiring") == [
        (
            citizen.pk,
            {
                "number": "",
                "service_name": "居住证明开具",
                "url": reverse("approvals:draft", kwargs={"public_id": expiring.public_id}),
                "expires_on": timezone.localtime(expires_at).date().isoformat(),
            },
        )
    ]
    assert row(expiring)["draft_reminded_at"] == now
    assert row(later)["draft_reminded_at"] is None


def test_an_expired_draft_is_deleted_with_its_files_and_submitted_applications_stay(
    item, citizen, upload_root, django_capture_on_commit_callbacks
):
    expired = ready_draft(citizen, item)
    expired_file = upload_root / Attachment.objects.get(application=expired).storage_key
    fresh = start(citizen, item)
    application = submitted(citizen, item)
    kept_file = upload_root / Attachment.objects.get(application=application).storage_key
    now = timezone.now()
    # A stale expiry on a submitted application must not matter: only drafts expire.
    Application.objects.filter(pk__in=[expired.pk, application.pk]).update(
        draft_expires_at=now - datetime.timedelta(minutes=1)
    )
    assert stored_files(upload_root) == sorted([expired_file, kept_file])

    with django_capture_on_commit_callbacks(execute=True):
        assert actions.drafts_sweep(now=now) == (0, 1)

    assert sorted(Application.objects.values_list("pk", flat=True)) == sorted([fresh.pk, application.pk])
    assert Attachment.objects.filter(application_id=expired.pk).count() == 0
    assert stored_files(upload_root) == [kept_file]
    assert row(application)["status"] == "submitted"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql_only
def test_the_beat_task_sweeps_drafts_through_a_real_worker(celery_worker, item, citizen, upload_root):
    expired = ready_draft(citizen, item)
    expiring = start(citizen, item)
    now = timezone.now()
    Application.objects.filter(pk=expired.pk).update(draft_expires_at=now - datetime.timedelta(minutes=1))
    Application.objects.filter(pk=expiring.pk).update(draft_expires_at=now + datetime.timedelta(days=1))
    assert len(stored_files(upload_root)) == 1

    assert send_task_now(sweep_drafts) is True

    def swept() -> bool:
        return (
            not Application.objects.filter(pk=expired.pk).exists()
            and Message.objects.filter(event="draft_expiring").exists()
            and not stored_files(upload_root)
        )

    assert wait_for(swept), "the worker did not sweep the drafts"
    assert list(Message.objects.filter(event="draft_expiring").values_list("recipient_id", flat=True)) == [citizen.pk]
    assert list(Application.objects.values_list("pk", flat=True)) == [expiring.pk]
    assert row(expiring)["draft_reminded_at"] is not None
