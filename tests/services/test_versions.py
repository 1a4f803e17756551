"""A published version never changes; a new version needs a second person to publish it."""

import datetime

import pytest

from core.errors import Conflict, DomainError, PermissionDenied
from services import actions
from services.models import ServiceItem
from tests.factories import UserFactory
from tests.services.builders import version_columns
from tests.services.factories import ServiceItemFactory, ThemeFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 27)


@pytest.fixture
def editor():
    return UserFactory.create(username="editor", is_staff=True)


@pytest.fixture
def approver():
    return UserFactory.create(username="approver", is_staff=True)


@pytest.fixture
def published():
    return ServiceItemFactory.create(name="结婚登记", themes=[ThemeFactory.create(slug="marriage")])


def test_editing_starts_a_new_draft_version_and_leaves_the_published_one_alone(published, editor):
    before = version_columns(published)

    draft = actions.item_draft_start(implementation_code=published.implementation_code, actor=editor)
    actions.item_draft_update(
        item_id=draft.pk, actor=editor, changes={"name": "结婚登记（内地居民）", "promised_limit": 1}
    )

    published.refresh_from_db()
    draft.refresh_from_db()
    assert version_columns(published) == before
    assert (draft.version, draft.status, draft.name, draft.promised_limit) == (2, "draft", "结婚登记（内地居民）", 1)
    assert draft.implementation_code == published.implementation_code
    assert list(draft.themes.values_list("slug", flat=True)) == ["marriage"]


def test_a_published_version_cannot_be_updated(published, editor):
    with pytest.raises(Conflict) as error:
        actions.item_draft_update(item_id=published.pk, actor=editor, changes={"name": "改名"})
    assert error.value.code == "wrong_status"
    published.refresh_from_db()
    assert published.name == "结婚登记"


def test_identity_fields_are_not_editable(published, editor):
    draft = actions.item_draft_start(implementation_code=published.implementation_code, actor=editor)
    with pytest.raises(DomainError) as error:
        actions.item_draft_update(item_id=draft.pk, actor=editor, changes={"implementation_code": "X" * 31})
    assert error.value.code == "not_editable"


def test_only_one_open_draft_per_entry(published, editor):
    actions.item_draft_start(implementation_code=published.implementation_code, actor=editor)
    with pytest.raises(Conflict) as error:
        actions.item_draft_start(implementation_code=published.implementation_code, actor=editor)
    assert error.value.code == "open_draft"


def test_an_incomplete_draft_cannot_go_for_approval(published, editor):
    draft = actions.item_draft_start(implementation_code=published.implementation_code, actor=editor)
    actions.item_draft_update(item_id=draft.pk, actor=editor, changes={"star_level": 5, "visits": 2})
    with pytest.raises(DomainError) as error:
        actions.item_submit_for_review(item_id=draft.pk, actor=editor)
    assert error.value.code == "incomplete"
    assert set(error.value.fields) == {"visits", "effective_from"}
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_the_editor_cannot_approve_their_own_version(published, editor):
    draft = actions.item_draft_start(implementation_code=published.implementation_code, actor=editor)
    actions.item_draft_update(item_id=draft.pk, actor=editor, changes={"effective_from": TODAY})
    actions.item_submit_for_review(item_id=draft.pk, actor=editor)
    with pytest.raises(PermissionDenied) as error:
        actions.item_approve(item_id=draft.pk, actor=editor, today=TODAY)
    assert error.value.code == "four_eyes"
    draft.refresh_from_db()
    assert draft.status == "in_review"


def test_a_second_person_publishes_and_the_previous_version_retires_the_day_before(published, editor, approver):
    draft = actions.item_draft_start(implementation_code=published.implementation_code, actor=editor)
    actions.item_draft_update(
        item_id=draft.pk, actor=editor, changes={"effective_from": TODAY, "change_note": "缩短时限"}
    )
    actions.item_submit_for_review(item_id=draft.pk, actor=editor)

    actions.item_approve(item_id=draft.pk, actor=approver, today=TODAY)

    published.refresh_from_db()
    draft.refresh_from_db()
    assert (draft.status, draft.approved_by, draft.published_at is not None) == ("published", approver, True)
    assert (published.status, published.effective_to) == ("retired", datetime.date(2026, 11, 26))
    assert ServiceItem.objects.published().filter(implementation_code=published.implementation_code).count() == 1


def test_a_future_version_waits_until_its_effective_date(published, editor, approver):
    starts = TODAY + datetime.timedelta(days=3)
    draft = actions.item_draft_start(implementation_code=published.implementation_code, actor=editor)
    actions.item_draft_update(item_id=draft.pk, actor=editor, changes={"effective_from": starts})
    actions.item_submit_for_review(item_id=draft.pk, actor=editor)
    actions.item_approve(item_id=draft.pk, actor=approver, today=TODAY)
    draft.refresh_from_db()
    assert draft.status == "scheduled"

    assert actions.versions_publish_due(today=starts - datetime.timedelta(days=1)) == 0
    assert actions.versions_publish_due(today=starts) == 1

    draft.refresh_from_db()
    published.refresh_from_db()
    assert (draft.status, published.status) == ("published", "retired")
    assert actions.versions_publish_due(today=starts) == 0


def test_returning_to_the_editor_reopens_the_draft(published, editor, approver):
    draft = actions.item_draft_start(implementation_code=published.implementation_code, actor=editor)
    actions.item_draft_update(item_id=draft.pk, actor=editor, changes={"effective_from": TODAY})
    actions.item_submit_for_review(item_id=draft.pk, actor=editor)
    actions.item_return_to_draft(item_id=draft.pk, actor=approver)
    draft.refresh_from_db()
    assert draft.status == "draft"
    actions.item_draft_update(item_id=draft.pk, actor=editor, changes={"hours": "工作日 9:00-17:00"})


def test_applying_needs_at_least_level_two(published, editor):
    draft = actions.item_draft_start(implementation_code=published.implementation_code, actor=editor)
    actions.item_draft_update(
        item_id=draft.pk, actor=editor, changes={"min_real_name_level": 1, "effective_from": TODAY}
    )
    with pytest.raises(DomainError) as error:
        actions.item_submit_for_review(item_id=draft.pk, actor=editor)
    assert set(error.value.fields) == {"min_real_name_level"}


INSTANT = {
    "instant": True,
    "stages": [{"key": "handle", "tasks": [{"key": "handle", "name": "审查并登记", "results": ["同意", "不同意"]}]}],
}


@pytest.mark.usefixtures("english")
def test_an_item_that_needs_a_visit_is_never_decided_by_the_machine(published, editor):
    # given a draft of an item with one visit in person, decided at submission (instant)
    draft = actions.item_draft_start(implementation_code=published.implementation_code, actor=editor)
    actions.item_draft_update(
        item_id=draft.pk,
        actor=editor,
        changes={"visits": 1, "star_level": 3, "workflow": INSTANT, "effective_from": TODAY},
    )

    # when it goes for approval, then it is refused: the clerk who sees the applicant decides
    with pytest.raises(DomainError) as error:
        actions.item_submit_for_review(item_id=draft.pk, actor=editor)
    assert set(error.value.fields) == {"workflow"}
    assert "cannot be decided by the machine at submission" in error.value.fields["workflow"][0]


def test_a_clerk_task_at_the_visit_may_be_published(published, editor):
    draft = actions.item_draft_start(implementation_code=published.implementation_code, actor=editor)
    actions.item_draft_update(
        item_id=draft.pk,
        actor=editor,
        changes={"visits": 1, "star_level": 3, "workflow": {**INSTANT, "instant": False}, "effective_from": TODAY},
    )

    item = actions.item_submit_for_review(item_id=draft.pk, actor=editor)

    assert item.status == ServiceItem.Status.IN_REVIEW
