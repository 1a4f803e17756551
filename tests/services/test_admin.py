"""The catalogue admin: published versions are read-only, four eyes publish, versions and their differences."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from core.errors import Conflict
from services import actions
from services.models import Bundle, Department, Region, ServiceItem, Synonym, Theme
from tests.factories import UserFactory, enroll_totp
from tests.helpers import assert_query_count, get_counting_queries
from tests.services.builders import make_department, make_item, make_theme, version_columns

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor():
    return UserFactory.create(username="catalogue-editor", is_staff=True, is_superuser=True)


@pytest.fixture
def approver():
    return UserFactory.create(username="catalogue-approver", is_staff=True, is_superuser=True)


@pytest.fixture
def published():
    return make_item(themes=[make_theme()])


def _client(user) -> Client:
    enroll_totp(user)  # staff reach the admin only with MFA
    client = Client()
    client.force_login(user)
    return client


def _url(name: str, *args: Any, **query: Any) -> str:
    with translation.override("en"):
        url = reverse(f"admin:{name}", args=args)
    return url + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


def _item_url(view: str, item: ServiceItem) -> str:
    return _url(f"services_serviceitem_{view}", item.pk)


def _step(client: Client, item: ServiceItem, step: str):
    with translation.override("en"):
        url = reverse("admin:services_serviceitem_workflow", kwargs={"object_id": item.pk, "step": step})
    return client.post(url, follow=True)


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _fields(item: ServiceItem) -> dict[str, Any]:
    item.refresh_from_db()
    return version_columns(item)


def _form_data(response) -> dict[str, Any]:
    """What the change form would send back unchanged."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is not None:
            data[name] = value
    return data


def _draft_of(published: ServiceItem, editor, **changes: Any) -> ServiceItem:
    draft = actions.item_draft_start(implementation_code=published.implementation_code, actor=editor)
    if changes:
        draft = actions.item_draft_update(item_id=draft.pk, actor=editor, changes=changes)
    return draft


# --- The lists ---


@pytest.mark.parametrize(
    ("model", "query"),
    [
        (Region, {"q": "3301", "level__exact": 3}),
        (Department, {"q": "测试局", "kind__exact": "civil_affairs", "region__level": 3}),
        (Theme, {"q": "marriage"}),
        (Bundle, {"q": "开店"}),
        (Synonym, {"q": "领证"}),
        (ServiceItem, {"q": "结婚", "status__exact": "published", "star_level": 5}),
    ],
)
def test_every_catalogue_model_has_a_searchable_list(published, editor, model, query):
    Bundle.objects.create(slug="open-shop", name="开店一件事", audience="enterprise", item_codes=[])
    Synonym.objects.create(term="领证", expansions="结婚登记")

    response = _client(editor).get(_url(f"services_{model._meta.model_name}_changelist", **query))

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_the_item_list_shows_versions_and_dates(published, editor):
    response = _client(editor).get(_url("services_serviceitem_changelist"))

    assert [column["text"] for column in response.context["result_headers"]] == [
        "name",
        "implementation code (实施编码)",
        "version",
        "status",
        "implementing department",
        "effective from",
        "effective until",
    ]


# --- A published version never changes ---


def test_a_published_version_is_shown_read_only_with_no_delete(published, editor):
    response = _client(editor).get(_item_url("change", published))

    assert response.status_code == 200
    assert response.context["adminform"].form.fields == {}
    assert b'name="_save"' not in response.content
    assert _item_url("delete", published).encode() not in response.content
    assert b"Start a new draft version" in response.content


def test_posting_to_a_published_versions_change_page_changes_nothing(published, editor):
    client = _client(editor)
    before = _fields(published)

    response = client.post(_item_url("change", published), {"name": "改掉的名字", "summary": "改掉", "_save": "Save"})
    deleted = client.post(_item_url("delete", published), {"post": "yes"})

    assert (response.status_code, deleted.status_code) == (403, 403)
    assert _fields(published) == before


def test_the_bulk_delete_action_is_not_offered(published, editor):
    response = _client(editor).get(_url("services_serviceitem_changelist"))

    assert response.context["action_form"] is None


# --- Drafts: started, edited and moved on by the actions ---


def test_a_new_draft_version_is_edited_through_the_action(published, editor):
    client = _client(editor)
    before = _fields(published)

    started = _step(client, published, "new-draft")
    draft = ServiceItem.objects.get(implementation_code=published.implementation_code, version=2)
    form = client.get(_item_url("change", draft))
    data = _form_data(form)
    data.update(name="结婚登记（内地居民）", served_parties=["1", "2"], effective_from="2030-01-01", _save="Save")
    saved = client.post(_item_url("change", draft), data, follow=True)

    assert started.redirect_chain[-1][0] == _item_url("change", draft)
    assert "Version 2 was started as a draft; edit it below." in _messages(started)
    assert saved.status_code == 200
    draft.refresh_from_db()
    assert (draft.status, draft.name, draft.served_parties, draft.effective_from) == (
        "draft",
        "结婚登记（内地居民）",
        ["1", "2"],
        datetime.date(2030, 1, 1),
    )
    assert (draft.for_persons, draft.for_enterprises, draft.edited_by) == (True, True, editor)
    assert list(draft.themes.values_list("slug", flat=True)) == ["marriage"]
    assert _fields(published) == before


def test_a_refused_draft_save_shows_the_reason_and_no_success(published, editor, monkeypatch):
    client = _client(editor)
    draft = _draft_of(published, editor)
    data = _form_data(client.get(_item_url("change", draft)))

    def refuse(**kwargs: Any) -> None:
        raise Conflict("This version is Awaiting approval; that is not possible now.")

    monkeypatch.setattr(actions, "item_draft_update", refuse)
    response = client.post(_item_url("change", draft), {**data, "name": "新名字", "_save": "Save"}, follow=True)

    assert response.redirect_chain == [(_item_url("change", draft), 302)]
    assert _messages(response) == ["This version is Awaiting approval; that is not possible now."]
    draft.refresh_from_db()
    assert draft.name == "结婚登记"


def test_a_brand_new_entry_is_created_as_draft_version_1(editor):
    department = make_department()
    code = f"{department.uscc}3000120000077"

    response = _client(editor).post(
        _url("services_serviceitem_add"),
        {
            "implementation_code": code,
            "basic_code": "000120000077",
            "department": department.pk,
            "exercise_level": 3,
            "name": "新事项",
            "item_type": "20",
            "served_parties": ["2"],
            "handling_type": "1",
            "legal_limit_unit": "W",
            "promised_limit_unit": "W",
            "visits": 0,
            "star_level": 3,
            "online_depth": 3,
            "scope": "5",
            "section": "convenience",
            "materials": "[]",
            "fees": "[]",
            "faqs": "[]",
            "process": "[]",
            "form_schema": "{}",
            "form_ui": "{}",
            "workflow": "{}",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    item = ServiceItem.objects.get(implementation_code=code)
    assert (item.version, item.status, item.edited_by, item.for_persons, item.for_enterprises) == (
        1,
        "draft",
        editor,
        False,
        True,
    )


def test_a_new_entry_cannot_take_an_existing_code_or_a_wrong_one(published, editor):
    client = _client(editor)
    data = {
        "implementation_code": published.implementation_code,
        "basic_code": published.basic_code,
        "department": published.department.pk,
        "exercise_level": 3,
        "name": "重复",
    }

    taken = client.post(_url("services_serviceitem_add"), data)
    wrong = client.post(_url("services_serviceitem_add"), {**data, "implementation_code": "X" * 31})

    assert taken.context["adminform"].form.errors["implementation_code"] == [
        "An entry with this implementation code exists; start a new draft version of it instead."
    ]
    assert wrong.context["adminform"].form.errors["implementation_code"] == [
        "The implementation code must be the department's credit code, the level digit and the basic code "
        f"({published.implementation_code})."
    ]
    assert ServiceItem.objects.count() == 1


def test_an_incomplete_draft_is_not_sent_for_approval_and_the_reasons_are_shown(published, editor):
    draft = _draft_of(published, editor, visits=2)

    response = _step(_client(editor), draft, "submit")

    assert _messages(response) == [
        "The version is not complete yet.",
        "Visits in person (到现场次数): A 5-star item allows at most 0 visits in person.",
        "Effective from: Choose the date from which this version applies.",
    ]
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_the_editor_cannot_approve_their_own_version(published, editor):
    client = _client(editor)
    draft = _draft_of(published, editor, name="结婚登记（新）", effective_from=timezone.localdate())
    submitted = _step(client, draft, "submit")
    page = client.get(_item_url("change", draft))

    response = _step(client, draft, "approve")

    assert "Version 2 was sent for approval; a second person must approve it." in _messages(submitted)
    assert b"You edited this version: a second person must approve it." in page.content
    assert _messages(response) == ["The editor of a version cannot approve it: a second person must."]
    draft.refresh_from_db()
    published.refresh_from_db()
    assert (draft.status, draft.approved_by, published.status) == ("in_review", None, "published")


def test_a_second_person_approves_and_the_new_version_replaces_the_old(published, editor, approver):
    today = timezone.localdate()
    draft = _draft_of(published, editor, name="结婚登记（新）", effective_from=today)
    _step(_client(editor), draft, "submit")
    before = _fields(published)

    response = _step(_client(approver), draft, "approve")

    assert _messages(response) == ["Version 2 is published."]
    draft.refresh_from_db()
    after = _fields(published)
    assert (draft.status, draft.approved_by, draft.edited_by) == ("published", approver, editor)
    assert (after["status"], after["effective_to"]) == ("retired", today - datetime.timedelta(days=1))
    assert {name for name in before if before[name] != after[name]} == {"status", "effective_to", "updated_at"}


def test_a_version_awaiting_approval_can_be_returned_to_its_editor(published, editor, approver):
    draft = _draft_of(published, editor, effective_from=timezone.localdate())
    _step(_client(editor), draft, "submit")

    response = _step(_client(approver), draft, "return")

    assert _messages(response) == ["Version 2 was returned to its editor as a draft."]
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_workflow_steps_need_a_post(published, editor):
    with translation.override("en"):
        url = reverse("admin:services_serviceitem_workflow", kwargs={"object_id": published.pk, "step": "new-draft"})

    response = _client(editor).get(url)

    assert response.status_code == 405
    assert ServiceItem.objects.count() == 1


def test_staff_without_catalogue_permissions_cannot_take_steps(published):
    clerk = UserFactory.create(username="clerk-without-rights", is_staff=True)

    response = _step(_client(clerk), published, "new-draft")

    assert response.status_code == 403
    assert ServiceItem.objects.count() == 1


# --- Versions and their differences ---


def test_the_versions_page_lists_every_version_of_the_entry(published, editor, approver):
    draft = _draft_of(published, editor, effective_from=timezone.localdate(), change_note="改名")
    _step(_client(editor), draft, "submit")
    _step(_client(approver), draft, "approve")
    make_item(basic_code="000120000099", department=published.department, name="别的事项")

    response = _client(editor).get(_item_url("versions", published))

    rows = [
        (row["item"].version, row["item"].status, row["item"].edited_by, row["item"].approved_by)
        for row in response.context["versions"]
    ]
    assert rows == [(2, "published", editor, approver), (1, "retired", None, None)]
    assert b"Compare from version 1" in response.content
    change_page = _client(editor).get(_item_url("change", published))
    assert _item_url("versions", published).encode() in change_page.content


def test_the_comparison_shows_exactly_the_fields_that_changed(published, editor):
    new_materials = [
        *published.materials,
        {"code": "proof", "name": "无婚姻证明", "required": False, "form": "copy", "source": "upload"},
    ]
    draft = _draft_of(
        published,
        editor,
        name="结婚登记（内地居民）",
        materials=new_materials,
        effective_from=datetime.date(2030, 1, 1),
        change_note="补充材料",
    )
    actions.item_draft_update(item_id=draft.pk, actor=editor, changes={}, theme_ids=[make_theme("family", "家庭").pk])

    response = _client(editor).get(_url("services_serviceitem_diff", draft.pk, old=1, new=2))

    differences = response.context["differences"]
    assert [difference.name for difference in differences] == ["name", "materials", "themes"]
    name, materials, themes = differences
    assert [(line.kind, line.text) for line in name.lines] == [
        ("removed", "结婚登记"),
        ("added", "结婚登记（内地居民）"),
    ]
    # One more object of five keys: "}," "{" and five lines of keys are added after the last one.
    assert [line.kind for line in materials.lines].count("added") == 7
    assert [line.kind for line in materials.lines].count("removed") == 0
    assert [(line.kind, line.text) for line in themes.lines] == [
        ("removed", "婚育收养 (marriage)"),
        ("added", "家庭 (family)"),
    ]
    assert "<ins>+ 结婚登记（内地居民）</ins>" in response.content.decode()


def test_the_comparison_defaults_to_the_version_before_and_refuses_unknown_versions(published, editor):
    draft = _draft_of(published, editor, summary="新的说明。")
    client = _client(editor)

    default = client.get(_item_url("diff", draft))
    unknown = client.get(_url("services_serviceitem_diff", draft.pk, old=7, new=2))

    assert [difference.name for difference in default.context["differences"]] == ["summary"]
    assert unknown.status_code == 404


def test_the_item_list_and_the_versions_page_run_a_fixed_number_of_queries(published, editor, approver):
    for number in (2, 3):
        draft = _draft_of(published, editor, name=f"第{number}版", effective_from=timezone.localdate())
        actions.item_submit_for_review(item_id=draft.pk, actor=editor)
        actions.item_approve(item_id=draft.pk, actor=approver)
    make_item(basic_code="000120000099", department=published.department, name="别的事项")
    client = _client(editor)

    versions, versions_queries = get_counting_queries(client, _item_url("versions", published))
    listing, listing_queries = get_counting_queries(client, _url("services_serviceitem_changelist"))

    assert len(versions.context["versions"]) == 3
    assert listing.context["cl"].result_count == 4
    # user, staff MFA check, this version, the versions with editors
    assert_query_count(versions_queries, 4)
    # user, staff MFA check, two counts, the page with departments, star filter
    assert_query_count(listing_queries, 6)


@pytest.mark.parametrize(
    ("depends_on", "founding", "field"),
    [
        ('{"B": ["A"], "A": ["B"]}', "", "depends_on"),
        ('{"B": ["C"]}', "", "depends_on"),
        ("{}", "C", "founding_item_code"),
    ],
)
def test_a_bundle_whose_items_wait_in_a_circle_or_outside_it_is_not_saved(editor, depends_on, founding, field):
    bundle = Bundle.objects.create(slug="open-shop", name="开店一件事", audience="enterprise", item_codes=["A", "B"])
    form = {
        "slug": "open-shop",
        "name": "开店一件事",
        "audience": "enterprise",
        "description": "",
        "item_codes": '["A", "B"]',
        "depends_on": depends_on,
        "founding_item_code": founding,
        "is_active": "on",
    }

    response = _client(editor).post(_url("services_bundle_change", bundle.pk), form)

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == [field]
    bundle.refresh_from_db()
    assert (bundle.depends_on, bundle.founding_item_code) == ({}, "")


def test_a_bundle_whose_items_wait_for_others_of_it_is_saved(editor):
    bundle = Bundle.objects.create(slug="open-shop", name="开店一件事", audience="enterprise", item_codes=["A", "B"])
    form = {
        "slug": "open-shop",
        "name": "开店一件事",
        "audience": "enterprise",
        "description": "",
        "item_codes": '["A", "B"]',
        "depends_on": '{"B": ["A"]}',
        "founding_item_code": "A",
        "is_active": "on",
    }

    response = _client(editor).post(_url("services_bundle_change", bundle.pk), form)

    assert response.status_code == 302
    bundle.refresh_from_db()
    assert (bundle.depends_on, bundle.founding_item_code) == ({"B": ["A"]}, "A")
