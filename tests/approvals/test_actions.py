"""The applications domain layer: drafts, prefill, materials, submission, withdrawal, supplement, versions, sweeps."""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from accounts import actions as account_actions
from accounts.models import AgentAuthorisation, AuthorisationScope, Enterprise, User
from approvals import journal
from approvals.applications import actions, numbering, selectors, submission
from approvals.bundles import selectors as bundle_selectors
from approvals.materials import material_states
from approvals.models import (
    Application,
    ApplicationEvent,
    Attachment,
    BundleApplication,
    IdempotencyRecord,
    NumberSequence,
    Outbox,
)
from approvals.tasks import sweep_drafts
from core import crypto
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.queueing import send_task_now
from datahub.demo_data import LI_JIANGUO, WANG_XIAOMING, YIWANG_TECHNOLOGY
from datahub.models import DataAccessLog
from interaction.models import Message
from services import actions as service_actions
from services.demo_data.fields import form
from services.models import Audience, Bundle, Department, ServiceItem
from tests.approvals.builders import (
    COUNTY_CODE,
    FORM_FIELDS,
    complete_answers,
    make_applicable_item,
    make_enterprise_item,
    pdf_upload,
    publish_new_version,
    ready_draft,
    submitted,
)
from tests.datahub.builders import make_wang_household, make_yiwang_technology
from tests.factories import UserFactory, email_user, give_identity
from tests.services.builders import make_theme

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

# 16:00:05 UTC on 9 March is already 00:00:05 on 10 March in Shanghai.
AFTER_MIDNIGHT_IN_SHANGHAI = datetime.datetime(2026, 3, 9, 16, 0, 5, tzinfo=datetime.UTC)
SHANGHAI_DAY = datetime.date(2026, 3, 10)
PREFILLED = {
    "applicant_name": "王小明",
    "applicant_id_number": "330106198805120314",
    "gender": "male",
    "household_address": {"region": COUNTY_CODE, "detail": WANG_XIAOMING.address},
}
NOTE = "请补充申请事由，并重新上传近期证件照片。"


class Clock:
    """The time ``django.utils.timezone.now`` gives while the ``clock`` fixture is in use (time_machine is absent)."""

    def __init__(self, now: datetime.datetime) -> None:
        self.now = now

    def advance(self, **delta: float) -> None:
        self.now += datetime.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    pinned = Clock(AFTER_MIDNIGHT_IN_SHANGHAI)
    monkeypatch.setattr(timezone, "now", lambda: pinned.now)
    return pinned


@pytest.fixture(autouse=True)
def upload_root(settings: Any, tmp_path: Path) -> Path:
    settings.UPLOAD_ROOT = tmp_path / "uploads"
    settings.UPLOAD_SCANNER = "approvals.uploads.NoScanner"
    return settings.UPLOAD_ROOT


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def household() -> None:
    """王小明's household in the population registry (赵丽, the other citizen, is not in it)."""
    make_wang_household()


@pytest.fixture
def item(department: Department, household: None) -> ServiceItem:
    return make_applicable_item(department=department)


@pytest.fixture
def legal_rep(db: None) -> User:
    return give_identity(email_user("legalrep@example.com", last_name="李", first_name="建国"), LI_JIANGUO)


@pytest.fixture
def enterprise(legal_rep: User) -> Enterprise:
    """杭州一网科技有限公司, claimed by 李建国, its legal representative in the registry."""
    make_yiwang_technology()
    return account_actions.enterprise_claim(uscc=YIWANG_TECHNOLOGY.uscc, actor=legal_rep)


@pytest.fixture
def enterprise_item(item: ServiceItem) -> ServiceItem:
    return make_enterprise_item(department=item.department)


def authorise(
    enterprise: Enterprise, agent: User, legal_rep: User, *, item_codes: list[str] | None = None
) -> AgentAuthorisation:
    return account_actions.agent_authorise(
        enterprise_id=enterprise.pk,
        agent_email=agent.email,
        scope=AuthorisationScope.LISTED if item_codes else AuthorisationScope.ALL,
        item_codes=item_codes or [],
        valid_from=timezone.localdate(),
        valid_to=None,
        actor=legal_rep,
    )


def start(user: User, item: ServiceItem, *, acting_for: Enterprise | None = None) -> Application:
    return actions.application_draft_start(user=user, service_code=item.implementation_code, acting_for=acting_for)


def row(application: Application) -> dict[str, Any]:
    """Every column of the application as stored now."""
    return dict(Application.objects.filter(pk=application.pk).values().get())


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def events_of(application: Application) -> list[str]:
    return list(
        ApplicationEvent.objects.filter(application=application).order_by("at", "pk").values_list("action", flat=True)
    )


def inbox(event: str) -> list[tuple[int, dict[str, Any]]]:
    return list(Message.objects.filter(event=event).order_by("pk").values_list("recipient_id", "context"))


# --- Who may start ------------------------------------------------------------


def test_a_level_1_account_cannot_start_and_nothing_is_created(item):
    newcomer = email_user("newcomer@example.com")

    with pytest.raises(PermissionDenied) as raised:
        start(newcomer, item)

    assert raised.value.code == "real_name_level_too_low"
    assert raised.value.message == "Applying for this service needs real-name level 2; your account is at level 1."
    assert Application.objects.count() == 0
    assert ApplicationEvent.objects.count() == 0
    assert DataAccessLog.objects.count() == 0


def test_an_item_needing_level_3_refuses_a_level_2_account_and_admits_a_level_3_one(
    department, household, citizen, other_citizen
):
    item = make_applicable_item(department=department, min_real_name_level=3)

    with pytest.raises(PermissionDenied) as raised:
        start(other_citizen, item)  # level 2
    draft = start(citizen, item)  # level 3

    assert raised.value.code == "real_name_level_too_low"
    assert raised.value.message == "Applying for this service needs real-name level 3; your account is at level 2."
    assert list(Application.objects.values_list("pk", "applicant_id")) == [(draft.pk, citizen.pk)]


def test_an_item_for_individuals_refuses_acting_for_an_enterprise(item, enterprise, legal_rep):
    with pytest.raises(DomainError) as raised:
        start(legal_rep, item, acting_for=enterprise)

    assert raised.value.code == "wrong_audience"
    assert raised.value.message == "This service is for individuals, not for organisations."
    assert Application.objects.count() == 0


def test_an_item_for_enterprises_refuses_a_person_applying_for_themselves(enterprise_item, legal_rep):
    with pytest.raises(DomainError) as raised:
        start(legal_rep, enterprise_item)

    assert raised.value.code == "wrong_audience"
    assert raised.value.message == "This service is for organisations: choose the organisation you act for first."
    assert Application.objects.count() == 0


@pytest.mark.parametrize("authorisation", ["expired", "revoked", "for other items"])
def test_an_agent_without_a_current_authorisation_for_the_item_cannot_start(
    authorisation, item, enterprise_item, enterprise, legal_rep, enterprise_agent
):
    if authorisation == "for other items":
        authorise(enterprise, enterprise_agent, legal_rep, item_codes=[item.implementation_code])
    else:
        granted = authorise(enterprise, enterprise_agent, legal_rep)
        if authorisation == "expired":
            today = timezone.localdate()
            AgentAuthorisation.objects.filter(pk=granted.pk).update(
                valid_from=today - datetime.timedelta(days=30), valid_to=today - datetime.timedelta(days=1)
            )
        else:
            account_actions.agent_revoke(authorisation_id=granted.pk, actor=legal_rep)

    with pytest.raises(PermissionDenied) as raised:
        start(enterprise_agent, enterprise_item, acting_for=enterprise)

    assert raised.value.code == "not_authorised"
    assert raised.value.message == "You are not authorised to apply for this service on behalf of 杭州一网科技有限公司."
    assert Application.objects.count() == 0


def test_the_legal_representative_and_an_agent_for_all_items_can_start_for_the_enterprise(
    enterprise_item, enterprise, legal_rep, enterprise_agent
):
    authorise(enterprise, enterprise_agent, legal_rep)

    by_representative = start(legal_rep, enterprise_item, acting_for=enterprise)
    by_agent = start(enterprise_agent, enterprise_item, acting_for=enterprise)

    assert [(each.applicant_id, each.acting_for_id, each.status) for each in (by_representative, by_agent)] == [
        (legal_rep.pk, enterprise.pk, "draft"),
        (enterprise_agent.pk, enterprise.pk, "draft"),
    ]


def test_an_agent_whose_authorisation_is_revoked_no_longer_reaches_the_enterprises_draft(
    enterprise_item, enterprise, legal_rep, enterprise_agent
):
    granted = authorise(enterprise, enterprise_agent, legal_rep)
    draft = start(enterprise_agent, enterprise_item, acting_for=enterprise)
    account_actions.agent_revoke(authorisation_id=granted.pk, actor=legal_rep)

    with pytest.raises(NotFound):
        actions.application_draft_update(application_id=draft.pk, user=enterprise_agent, data={"contact_phone": ""})
    actions.application_draft_update(application_id=draft.pk, user=legal_rep, data={"contact_phone": "13906512876"})

    assert row(draft)["data"]["contact_phone"] == "13906512876"


def test_an_agent_finds_the_enterprises_bundles_in_the_list_exactly_when_they_may_open_them(
    item, enterprise_item, enterprise, legal_rep, enterprise_agent
):
    other_item = make_enterprise_item(department=item.department, basic_code="000120000003")
    offered = Bundle.objects.create(
        slug="open-a-shop",
        name="开店一件事",
        audience=Audience.ENTERPRISE,
        theme=make_theme(),
        description="一次填报、一次提交。",
        item_codes=[enterprise_item.implementation_code, other_item.implementation_code],
    )
    made = BundleApplication.objects.create(bundle=offered, applicant=legal_rep, acting_for=enterprise)
    granted = authorise(enterprise, enterprise_agent, legal_rep)

    assert selectors.bundles_of_owner(enterprise_agent) == [made]
    assert bundle_selectors.bundle_for_owner(enterprise_agent, str(made.public_id)) == made

    # authorised for one of the bundle's two items only: neither in the list nor on its page
    account_actions.agent_revoke(authorisation_id=granted.pk, actor=legal_rep)
    authorise(enterprise, enterprise_agent, legal_rep, item_codes=[enterprise_item.implementation_code])

    assert selectors.bundles_of_owner(enterprise_agent) == []
    with pytest.raises(NotFound):
        bundle_selectors.bundle_for_owner(enterprise_agent, str(made.public_id))
    assert selectors.bundles_of_owner(legal_rep) == [made]


# --- Prefill (once-only) --------------------------------------------------------


def test_a_draft_is_prefilled_from_the_population_registry_with_one_logged_read(item, citizen):
    draft = start(citizen, item)

    draft.refresh_from_db()
    assert (draft.status, draft.applicant_id, draft.acting_for_id, draft.service_id) == (
        "draft",
        citizen.pk,
        None,
        item.pk,
    )
    assert draft.data == PREFILLED
    assert draft.prefilled == dict.fromkeys(PREFILLED, "population")
    assert draft.material_picks == {"household_record": {"by": "registry"}}
    assert [(state.code, state.satisfied_by) for state in material_states(draft)] == [
        ("household_record", "registry"),
        ("photo", ""),
        ("proxy", ""),
    ]
    reads = list(DataAccessLog.objects.values_list("resource", "method", "actor_id", "purpose", "result"))
    assert reads == [
        ("population", "lookup", citizen.pk, f"预填申请表：居住证明开具（{item.implementation_code}）", "found")
    ]
    assert item.implementation_code in reads[0][3]
    timeline = ApplicationEvent.objects.filter(application=draft).order_by("pk")
    assert [(event.action, event.actor_id, event.details) for event in timeline] == [
        ("created", citizen.pk, {}),
        ("prefilled", citizen.pk, {"fields": sorted(PREFILLED), "registries": ["population"]}),
    ]


def test_someone_the_registry_does_not_know_gets_an_empty_form_and_must_upload_the_registry_material(
    item, other_citizen
):
    draft = start(other_citizen, item)

    draft.refresh_from_db()
    assert (draft.data, draft.prefilled, draft.material_picks) == ({}, {}, {})
    assert list(DataAccessLog.objects.values_list("resource", "actor_id", "result")) == [
        ("population", other_citizen.pk, "not_found")
    ]
    assert events_of(draft) == ["created"]
    assert "material.household_record" in submission.submission_problems(draft)


def test_acting_for_an_enterprise_prefills_its_fields_from_the_legal_person_registry(
    enterprise_item, enterprise, legal_rep, enterprise_agent
):
    authorise(enterprise, enterprise_agent, legal_rep)

    draft = start(enterprise_agent, enterprise_item, acting_for=enterprise)

    draft.refresh_from_db()
    assert draft.data == {
        "enterprise_name": "杭州一网科技有限公司",
        "uscc": "91330106MA2CYW08X3",
        "legal_representative": "李建国",
        "business_address": {"region": COUNTY_CODE, "detail": YIWANG_TECHNOLOGY.address},
        "contact_name": "李娜",
    }
    assert draft.prefilled == {
        "enterprise_name": "legal_person",
        "uscc": "legal_person",
        "legal_representative": "legal_person",
        "business_address": "legal_person",
        "contact_name": "population",
    }
    assert draft.material_picks == {"business_licence": {"by": "registry"}}
    purpose = f"预填申请表：单位证明开具（{enterprise_item.implementation_code}）"
    reads = DataAccessLog.objects.filter(purpose=purpose).order_by("pk")
    assert list(reads.values_list("resource", "actor_id", "result")) == [
        ("population", enterprise_agent.pk, "found"),
        ("legal_person", enterprise_agent.pk, "found"),
    ]


# --- Filling in a draft -----------------------------------------------------------


def test_an_unknown_field_is_refused_and_nothing_is_saved(item, citizen):
    draft = start(citizen, item)
    before = row(draft)

    with pytest.raises(DomainError) as raised:
        actions.application_draft_update(
            application_id=draft.pk, user=citizen, data={"reason": "办理入学手续需要。", "nickname": "小明"}
        )

    assert raised.value.code == "validation_error"
    assert raised.value.fields == {"nickname": ["This form has no such field."]}
    assert row(draft) == before


def test_an_invalid_answer_is_refused_with_the_fields_message_and_nothing_is_saved(item, citizen):
    draft = start(citizen, item)
    before = row(draft)

    with pytest.raises(DomainError) as raised:
        actions.application_draft_update(
            application_id=draft.pk, user=citizen, data={"reason": "办理入学手续需要。", "phone": "12345"}
        )

    assert raised.value.code == "validation_error"
    assert raised.value.fields == {
        "phone": ["Enter a mobile number of 11 digits, or a landline number with its area code."]
    }
    assert row(draft) == before


def test_an_empty_answer_clears_the_field_and_leaves_the_others(item, citizen):
    draft = start(citizen, item)
    actions.application_draft_update(
        application_id=draft.pk, user=citizen, data={"reason": "办理入学手续需要。", "phone": "13712349050"}
    )

    actions.application_draft_update(application_id=draft.pk, user=citizen, data={"reason": "", "phone": None})

    assert row(draft)["data"] == PREFILLED


def test_saving_a_draft_pushes_its_expiry_forward_and_allows_a_new_reminder(item, citizen, clock, settings):
    settings.DRAFT_TTL_DAYS = 30
    draft = start(citizen, item)
    assert row(draft)["draft_expires_at"] == AFTER_MIDNIGHT_IN_SHANGHAI + datetime.timedelta(days=30)
    clock.advance(days=28)
    Application.objects.filter(pk=draft.pk).update(draft_reminded_at=clock.now)

    actions.application_draft_update(application_id=draft.pk, user=citizen, data={"reason": "办理入学手续需要。"})

    stored = row(draft)
    assert stored["draft_expires_at"] == AFTER_MIDNIGHT_IN_SHANGHAI + datetime.timedelta(days=58)
    assert stored["draft_reminded_at"] is None


# --- Materials ----------------------------------------------------------------------


def test_a_missing_required_upload_is_the_only_problem_and_submission_is_refused(item, citizen):
    draft = start(citizen, item)
    actions.application_draft_update(application_id=draft.pk, user=citizen, data=complete_answers())

    problems = submission.submission_problems(Application.objects.get(pk=draft.pk))
    with pytest.raises(DomainError) as raised:
        submission.application_submit(application_id=draft.pk, user=citizen)

    assert problems == {"material.photo": ["Provide this material: 证件照片."]}
    assert (raised.value.code, raised.value.fields) == ("validation_error", problems)
    assert (row(draft)["status"], row(draft)["number"]) == ("draft", None)


def test_a_replaced_upload_leaves_one_current_attachment(item, citizen, upload_root):
    draft = start(citizen, item)
    actions.application_draft_update(application_id=draft.pk, user=citizen, data=complete_answers())

    actions.attachment_add(application_id=draft.pk, user=citizen, upload=pdf_upload("old.pdf"), material_code="photo")
    newer = actions.attachment_add(
        application_id=draft.pk, user=citizen, upload=pdf_upload("new.pdf"), material_code="photo"
    )

    attachments = Attachment.objects.filter(application=draft).order_by("pk")
    assert [(each.original_name, each.replaced_at is None) for each in attachments] == [
        ("old.pdf", False),
        ("new.pdf", True),
    ]
    draft.refresh_from_db()
    photo = next(state for state in material_states(draft) if state.code == "photo")
    assert (photo.satisfied_by, photo.file_name, photo.attachment_id) == ("upload", "new.pdf", str(newer.public_id))
    assert submission.submission_problems(draft) == {}
    assert len(stored_files(upload_root)) == 2  # the replaced file stays: the timeline refers to it


def test_a_file_for_a_material_the_service_does_not_have_is_refused_and_not_kept(item, citizen, upload_root):
    draft = start(citizen, item)

    with pytest.raises(DomainError) as raised:
        actions.attachment_add(application_id=draft.pk, user=citizen, upload=pdf_upload(), material_code="passport")

    assert raised.value.code == "validation_error"
    assert raised.value.fields == {"material": ["This service has no such material."]}
    assert Attachment.objects.count() == 0
    assert stored_files(upload_root) == []


def test_a_file_refused_for_its_content_is_not_kept(item, citizen, upload_root):
    draft = start(citizen, item)

    with pytest.raises(DomainError) as raised:
        actions.attachment_add(
            application_id=draft.pk,
            user=citizen,
            upload=pdf_upload("scan.pdf", b"just some text"),
            material_code="photo",
        )

    assert raised.value.code == "upload_type_not_allowed"
    assert Attachment.objects.count() == 0
    assert stored_files(upload_root) == []


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


DRAFT_ACTIONS: dict[str, Callable[[Application, User], Any]] = {
    "update": lambda draft, user: actions.application_draft_update(
        application_id=draft.pk, user=user, data={"reason": "别人的事由"}
    ),
    "upload": lambda draft, user: actions.attachment_add(
        application_id=draft.pk, user=user, upload=pdf_upload(), material_code="photo"
    ),
    "remove file": lambda draft, user: actions.attachment_remove(
        application_id=draft.pk, user=user, attachment_public_id=str(draft.attachments.get().public_id)
    ),
    "submit": lambda draft, user: submission.application_submit(application_id=draft.pk, user=user),
    "delete": lambda draft, user: actions.application_draft_delete(application_id=draft.pk, user=user),
}


@pytest.mark.parametrize("action", sorted(DRAFT_ACTIONS))
def test_another_citizen_cannot_touch_the_draft(action, item, citizen, other_citizen, upload_root):
    draft = ready_draft(citizen, item)
    before = (row(draft), stored_files(upload_root), list(Attachment.objects.values()))

    with pytest.raises(NotFound):
        DRAFT_ACTIONS[action](draft, other_citizen)

    assert (row(draft), stored_files(upload_root), list(Attachment.objects.values())) == before


SUBMITTED_ACTIONS: dict[str, Callable[[Application, User], Any]] = {
    "withdraw": lambda application, user: submission.application_withdraw(application_id=application.pk, user=user),
    "supplement": lambda application, user: submission.application_supplement(
        application_id=application.pk, user=user, data={"reason": "别人的事由"}
    ),
}


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


def request_supplement(application: Application, clerk: User, department: Department) -> Application:
    return submission.application_request_supplement(
        application_id=application.pk,
        actor=clerk,
        department_id=department.pk,
        fields=["reason"],
        materials=["photo"],
        note=NOTE,
    )


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


@pytest.fixture
def awaiting_supplement(item: ServiceItem, citizen: User, clerk: User, department: Department) -> Application:
    application = submitted(citizen, item)
    return request_supplement(application, clerk, department)


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


@pytest.fixture
def editors(db: None) -> tuple[User, User]:
    return UserFactory.create(username="editor", is_staff=True), UserFactory.create(username="approver", is_staff=True)


def version_2_changes() -> dict[str, Any]:
    """申请事由 becomes 事实与理由, and the result is no longer delivered electronically."""
    codes = tuple("case_summary" if code == "reason" else code for code in FORM_FIELDS)
    schema, ui = form("测试申请表", codes, optional=("postal_address",))
    schema["properties"]["delivery"]["enum"] = ["post", "counter"]
    ui["fields"]["delivery"]["options"] = [
        option for option in ui["fields"]["delivery"]["options"] if option["value"] != "electronic"
    ]
    return {"form_schema": schema, "form_ui": ui, "change_note": "申请事由改为事实与理由；不再提供电子证照送达。"}


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


def wait_for(condition: Callable[[], bool], *, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


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
