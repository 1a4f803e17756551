"""The applications' actions before submission: who may start, prefill (once-only), filling in, materials."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accounts import actions as account_actions
from accounts.models import AgentAuthorisation
from approvals.applications import actions, selectors, submission
from approvals.bundles import selectors as bundle_selectors
from approvals.materials import material_states
from approvals.models import (
    Application,
    ApplicationEvent,
    Attachment,
    BundleApplication,
)
from core.errors import DomainError, NotFound, PermissionDenied
from datahub.models import DataAccessLog
from demo.registry_data import YIWANG_TECHNOLOGY
from services.models import Audience, Bundle
from tests.approvals.applications.helpers import (
    AFTER_MIDNIGHT_IN_SHANGHAI,
    PREFILLED,
    events_of,
    row,
    start,
    stored_files,
)
from tests.approvals.builders import (
    COUNTY_CODE,
    complete_answers,
    make_applicable_item,
    make_enterprise_item,
    pdf_upload,
)
from tests.factories import authorise_agent, email_user
from tests.services.builders import make_theme

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


# --- Who may start ------------------------------------------------------------


def test_a_level_1_account_cannot_start_and_nothing_is_created(item):
    newcomer = email_user("newcomer@example.com")

    with pytest.raises(PermissionDenied) as raised:
        start(newcomer, item)

    assert raised.value.code == "real_name_level_too_low"
    assert (
        raised.value.message == "Applying for this service needs Basic real-name; your account's level is Not verified."
    )
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
    assert (
        raised.value.message
        == "Applying for this service needs Advanced real-name; your account's level is Basic real-name."
    )
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
        authorise_agent(enterprise, enterprise_agent, legal_rep, item_codes=[item.implementation_code])
    else:
        granted = authorise_agent(enterprise, enterprise_agent, legal_rep, item_codes=[])
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
    authorise_agent(enterprise, enterprise_agent, legal_rep, item_codes=[])

    by_representative = start(legal_rep, enterprise_item, acting_for=enterprise)
    by_agent = start(enterprise_agent, enterprise_item, acting_for=enterprise)

    assert [(each.applicant_id, each.acting_for_id, each.status) for each in (by_representative, by_agent)] == [
        (legal_rep.pk, enterprise.pk, "draft"),
        (enterprise_agent.pk, enterprise.pk, "draft"),
    ]


def test_an_agent_whose_authorisation_is_revoked_no_longer_reaches_the_enterprises_draft(
    enterprise_item, enterprise, legal_rep, enterprise_agent
):
    granted = authorise_agent(enterprise, enterprise_agent, legal_rep, item_codes=[])
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
    granted = authorise_agent(enterprise, enterprise_agent, legal_rep, item_codes=[])

    assert selectors.bundles_of_owner(enterprise_agent) == [made]
    assert bundle_selectors.bundle_for_owner(enterprise_agent, str(made.public_id)) == made

    # authorised for one of the bundle's two items only: neither in the list nor on its page
    account_actions.agent_revoke(authorisation_id=granted.pk, actor=legal_rep)
    authorise_agent(enterprise, enterprise_agent, legal_rep, item_codes=[enterprise_item.implementation_code])

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


def test_someone_the_registry_does_not_know_gets_an_empty_form_and_is_still_not_asked_to_upload_the_registry_material(
    item, other_citizen
):
    draft = start(other_citizen, item)

    draft.refresh_from_db()
    assert (draft.data, draft.prefilled, draft.material_picks) == ({}, {}, {})
    assert list(DataAccessLog.objects.values_list("resource", "actor_id", "result")) == [
        ("population", other_citizen.pk, "not_found")
    ]
    assert events_of(draft) == ["created"]
    # A registry's material is the department's to fetch (免提交), never a required upload.
    assert "material.household_record" not in submission.submission_problems(draft)
    assert "applicant_name" in submission.submission_problems(draft)


def test_acting_for_an_enterprise_prefills_its_fields_from_the_legal_person_registry(
    enterprise_item, enterprise, legal_rep, enterprise_agent
):
    authorise_agent(enterprise, enterprise_agent, legal_rep, item_codes=[])

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
