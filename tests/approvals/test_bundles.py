"""一件事一次办: one form and one submission for two items of two departments, routed in parallel, one timeline."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import RealNameLevel, User
from approvals.applications import actions, submission
from approvals.applications import merged_form as bundle_form
from approvals.bundles import actions as bundle_actions
from approvals.bundles import selectors as bundle_selectors
from approvals.materials import material_states_of
from approvals.models import Application, ApplicationEvent, Attachment, BundleApplication, Outbox, WorkflowTask
from approvals.routing import engine
from core.errors import DomainError, NotFound
from datahub.models import DataAccessLog
from demo.catalogue_data.fields import form
from demo.registry_data import WANG_XIAOMING
from interaction.models import Message
from services.models import Audience, Bundle, Department, ServiceItem
from tests.approvals.builders import (
    MATERIALS,
    claim_and_decide,
    make_applicable_item,
    pdf_upload,
    workflow_stage,
    workflow_task,
)
from tests.datahub.builders import make_wang_household
from tests.helpers import assert_query_count, get_counting_queries, logged_in
from tests.services.builders import make_theme

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases, pytest.mark.usefixtures("upload_root", "unsent")]

APPROVE = "同意"
# One stage, one decision by the implementing department: enough to see two departments work in parallel.
ONE_STAGE = {"stages": [workflow_stage("decide", workflow_task("decide", name="审批"))], "instant": False}
# The second item asks what the first asks, except the reason, and adds the baby's name.
BIRTH_FIELDS = (
    "applicant_name",
    "applicant_id_number",
    "gender",
    "household_address",
    "phone",
    "baby_name",
    "delivery",
    "postal_address",
    "declaration",
)
BIRTH_MATERIALS = [
    MATERIALS[0],
    MATERIALS[1],
    {"code": "birth_proof", "name": "出生医学证明", "required": False, "form": "electronic", "source": "upload"},
]


@pytest.fixture
def residence(department: Department) -> ServiceItem:
    return make_applicable_item(department=department, name="居住证明开具", workflow=ONE_STAGE)


@pytest.fixture
def vaccination(other_department: Department) -> ServiceItem:
    schema, ui = form("预防接种证申请表", BIRTH_FIELDS, optional=("postal_address",))
    return make_applicable_item(
        department=other_department,
        name="预防接种证办理",
        form_schema=schema,
        form_ui=ui,
        materials=BIRTH_MATERIALS,
        workflow=ONE_STAGE,
    )


@pytest.fixture
def bundle(residence: ServiceItem, vaccination: ServiceItem) -> Bundle:
    make_wang_household()  # 王小明's household, which the registry prefill reads
    return Bundle.objects.create(
        slug="birth",
        name="出生一件事",
        audience=Audience.PERSON,
        theme=make_theme(),
        description="一次填报、一次提交。",
        item_codes=[residence.implementation_code, vaccination.implementation_code],
    )


def _children(application: BundleApplication) -> list[Application]:
    return list(Application.objects.filter(bundle_application=application).select_related("service").order_by("pk"))


def _answers() -> dict[str, Any]:
    return {
        "phone": "13712349050",
        "reason": "办理入学手续需要。",
        "baby_name": "王小小",
        "delivery": "electronic",
        "declaration": True,
    }


def _ready(citizen: User) -> BundleApplication:
    application = bundle_actions.bundle_draft_start(user=citizen, slug="birth")
    bundle_actions.bundle_draft_update(bundle_id=application.pk, user=citizen, data=_answers())
    bundle_actions.bundle_attachment_add(
        bundle_id=application.pk, user=citizen, upload=pdf_upload(), material_code="photo"
    )
    return application


def _route() -> int:
    """Process every routing promise still open, as the routing workers would."""
    pending = list(Outbox.objects.filter(processed_at__isnull=True).order_by("pk").values_list("pk", flat=True))
    return sum(engine.outbox_process(outbox_id=outbox_id) for outbox_id in pending)


def _open_task(child: Application) -> WorkflowTask:
    return WorkflowTask.objects.get(application=child, status__in=WorkflowTask.OPEN)


# --- start ---------------------------------------------------------------------------------


def test_start_creates_one_prefilled_child_draft_per_item(bundle, residence, vaccination, citizen):
    application = bundle_actions.bundle_draft_start(user=citizen, slug="birth")

    children = _children(application)
    assert [child.service for child in children] == [residence, vaccination]
    assert {child.status for child in children} == {Application.Status.DRAFT}
    assert {child.department_id for child in children} == {residence.department_id, vaccination.department_id}
    for child in children:
        assert child.data["applicant_name"] == WANG_XIAOMING.name
        assert child.prefilled["applicant_name"] == "population"
        assert child.material_picks == {"household_record": {"by": "registry"}}
        assert child.draft_expires_at is None  # the bundle's draft expires as a whole
        # each child read the registry once, and the read was logged with its item
        assert DataAccessLog.objects.filter(actor=citizen, purpose__contains=child.implementation_code).count() == 1
    assert application.status == BundleApplication.Status.DRAFT
    assert application.data["applicant_name"] == WANG_XIAOMING.name
    assert application.prefilled["applicant_id_number"] == "population"
    assert application.draft_expires_at is not None


def test_start_is_refused_naming_the_item_the_user_may_not_apply_for(bundle, vaccination, citizen):
    vaccination.min_real_name_level = RealNameLevel.ADVANCED + 1
    vaccination.save(update_fields=["min_real_name_level"])

    with pytest.raises(DomainError) as refused:
        bundle_actions.bundle_draft_start(user=citizen, slug="birth")

    assert refused.value.code == "real_name_level_too_low"
    assert str(refused.value.message).startswith("预防接种证办理")
    assert BundleApplication.objects.count() == 0
    assert Application.objects.count() == 0


def test_start_is_refused_when_an_item_is_not_published(bundle, vaccination, citizen):
    ServiceItem.objects.filter(pk=vaccination.pk).update(status=ServiceItem.Status.RETIRED)

    with pytest.raises(DomainError) as refused:
        bundle_actions.bundle_draft_start(user=citizen, slug="birth")

    assert refused.value.code == "service_not_found"
    assert "预防接种证办理" in str(refused.value.message)
    assert Application.objects.count() == 0


# --- the one form ---------------------------------------------------------------------------


def test_the_form_merges_steps_by_title_and_asks_a_shared_field_once(bundle, residence, vaccination):
    with translation.override("en"):
        steps = bundle_form.form_steps([residence, vaccination])

    assert [step.title for step in steps] == ["Applicant", "Contact, delivery and declaration", "What you apply for"]
    codes = [[field.code for field in step.fields] for step in steps]
    assert codes == [
        ["applicant_name", "applicant_id_number", "gender", "household_address"],
        ["phone", "delivery", "postal_address", "declaration"],
        ["reason", "baby_name"],  # the first item's question, then the second's
    ]
    assert [step.index for step in steps] == [0, 1, 2]


def test_a_shared_answer_given_once_lands_in_every_child_that_asks_it(bundle, citizen):
    application = bundle_actions.bundle_draft_start(user=citizen, slug="birth")

    bundle_actions.bundle_draft_update(bundle_id=application.pk, user=citizen, data=_answers())

    residence_child, vaccination_child = _children(application)
    assert residence_child.data["phone"] == vaccination_child.data["phone"] == "13712349050"
    assert residence_child.data["delivery"] == vaccination_child.data["delivery"] == "electronic"
    # a field only one item asks goes only to that child
    assert residence_child.data["reason"] == "办理入学手续需要。"
    assert "reason" not in vaccination_child.data
    assert vaccination_child.data["baby_name"] == "王小小"
    assert "baby_name" not in residence_child.data
    application.refresh_from_db()
    assert application.data["reason"] == "办理入学手续需要。"
    assert application.data["baby_name"] == "王小小"
    assert application.data["phone"] == "13712349050"


def test_an_invalid_answer_changes_nothing_anywhere(bundle, citizen):
    application = bundle_actions.bundle_draft_start(user=citizen, slug="birth")
    before = [child.data for child in _children(application)]
    bundle_before = BundleApplication.objects.get(pk=application.pk).data

    with pytest.raises(DomainError) as refused:
        bundle_actions.bundle_draft_update(
            bundle_id=application.pk, user=citizen, data={"reason": "有效的事由。", "phone": "12345"}
        )

    assert refused.value.code == "validation_error"
    assert list(refused.value.fields) == ["phone"]
    assert [child.data for child in _children(application)] == before
    assert BundleApplication.objects.get(pk=application.pk).data == bundle_before


def test_a_field_no_item_asks_is_refused(bundle, citizen):
    application = bundle_actions.bundle_draft_start(user=citizen, slug="birth")

    with pytest.raises(DomainError) as refused:
        bundle_actions.bundle_draft_update(bundle_id=application.pk, user=citizen, data={"favourite_colour": "蓝"})

    assert list(refused.value.fields) == ["favourite_colour"]


# --- materials ------------------------------------------------------------------------------


def test_a_material_uploaded_once_satisfies_every_child_with_its_own_encrypted_copy(bundle, citizen):
    application = bundle_actions.bundle_draft_start(user=citizen, slug="birth")
    bundle_actions.bundle_draft_update(bundle_id=application.pk, user=citizen, data=_answers())

    stored = bundle_actions.bundle_attachment_add(
        bundle_id=application.pk, user=citizen, upload=pdf_upload("照片.pdf"), material_code="photo"
    )

    children = _children(application)
    assert [attachment.application_id for attachment in stored] == [child.pk for child in children]
    assert len({attachment.storage_key for attachment in stored}) == 2
    for child in children:
        assert submission.submission_problems(child) == {}
    states = {state.code: state for state in material_states_of(children)}
    assert (states["photo"].satisfied_by, states["photo"].file_name) == ("upload", "照片.pdf")
    assert states["household_record"].satisfied_by == "registry"
    assert states["birth_proof"].item_names == ("预防接种证办理",)
    assert states["photo"].item_names == ("居住证明开具", "预防接种证办理")

    # a material only one item asks for is stored for that child only
    bundle_actions.bundle_attachment_add(
        bundle_id=application.pk, user=citizen, upload=pdf_upload(), material_code="birth_proof"
    )
    assert Attachment.objects.filter(material_code="birth_proof").get().application == children[1]

    # removing takes the file off every child
    assert bundle_actions.bundle_attachment_remove(bundle_id=application.pk, user=citizen, material_code="photo") == 2
    assert Attachment.objects.filter(material_code="photo").count() == 0


def test_a_bad_file_is_stored_for_no_child(bundle, citizen):
    application = bundle_actions.bundle_draft_start(user=citizen, slug="birth")

    with pytest.raises(DomainError):
        bundle_actions.bundle_attachment_add(
            bundle_id=application.pk,
            user=citizen,
            upload=pdf_upload("photo.pdf", b"MZ\x90\x00 not a pdf"),
            material_code="photo",
        )

    assert Attachment.objects.count() == 0


# --- submission ----------------------------------------------------------------------------


def test_submit_is_all_or_nothing(bundle, citizen):
    application = _ready(citizen)
    # the second item's own question is left unanswered
    bundle_actions.bundle_draft_update(bundle_id=application.pk, user=citizen, data={"baby_name": None})

    with pytest.raises(DomainError) as refused:
        bundle_actions.bundle_submit(bundle_id=application.pk, user=citizen, idempotency_key="k1")

    assert refused.value.code == "validation_error"
    assert list(refused.value.fields) == ["baby_name"]
    assert {child.status for child in _children(application)} == {Application.Status.DRAFT}
    assert Application.objects.filter(number__isnull=False).count() == 0
    assert Outbox.objects.count() == 0
    assert BundleApplication.objects.get(pk=application.pk).status == BundleApplication.Status.DRAFT


def test_submit_gives_each_child_its_own_number_and_routing_row_and_a_second_submit_the_same(bundle, citizen):
    application = _ready(citizen)

    first = bundle_actions.bundle_submit(bundle_id=application.pk, user=citizen, idempotency_key="k1")
    children = _children(application)
    second = bundle_actions.bundle_submit(bundle_id=application.pk, user=citizen, idempotency_key="k1")

    assert first.status == second.status == BundleApplication.Status.SUBMITTED
    assert first.submitted_at is not None
    assert {child.status for child in children} == {Application.Status.SUBMITTED}
    numbers = [child.number for child in children]
    assert None not in numbers
    assert len(set(numbers)) == 2
    assert numbers[0].startswith(children[0].implementation_code)
    assert numbers[1].startswith(children[1].implementation_code)
    assert all(child.query_password_encrypted for child in children)
    assert sorted(Outbox.objects.values_list("application_id", flat=True)) == [child.pk for child in children]
    # the second submit changed nothing
    assert [child.number for child in _children(application)] == numbers
    assert Application.objects.count() == 2
    assert Outbox.objects.count() == 2


# --- routing and completion ------------------------------------------------------------------


def test_the_bundle_completes_when_the_last_child_is_decided_and_says_so_once(bundle, citizen, clerk, other_clerk):
    application = _ready(citizen)
    bundle_actions.bundle_submit(bundle_id=application.pk, user=citizen, idempotency_key="k1")
    residence_child, vaccination_child = _children(application)

    assert _route() == 2  # both children are routed, each to its own department
    assert _open_task(residence_child).department_id == residence_child.department_id
    assert _open_task(vaccination_child).department_id == vaccination_child.department_id

    claim_and_decide(_open_task(vaccination_child).pk, other_clerk, APPROVE)
    _route()
    assert Application.objects.get(pk=vaccination_child.pk).status == Application.Status.COMPLETED
    assert BundleApplication.objects.get(pk=application.pk).status == BundleApplication.Status.SUBMITTED
    assert Message.objects.filter(event="bundle_completed").count() == 0

    claim_and_decide(_open_task(residence_child).pk, clerk, APPROVE)
    _route()

    done = BundleApplication.objects.get(pk=application.pk)
    assert done.status == BundleApplication.Status.COMPLETED
    assert done.completed_at is not None
    message = Message.objects.get(event="bundle_completed")
    assert message.recipient == citizen
    assert message.context == {"bundle_name": "出生一件事", "url": bundle_selectors.bundle_url(done)}
    _route()  # nothing left; routing again completes nothing again
    assert Message.objects.filter(event="bundle_completed").count() == 1


def test_a_refused_child_also_ends_its_part_of_the_bundle(bundle, citizen, clerk, other_clerk):
    application = _ready(citizen)
    bundle_actions.bundle_submit(bundle_id=application.pk, user=citizen)
    residence_child, vaccination_child = _children(application)
    _route()

    claim_and_decide(_open_task(residence_child).pk, clerk, "不同意", opinion="不符合条件。")
    claim_and_decide(_open_task(vaccination_child).pk, other_clerk, APPROVE)
    _route()

    assert [child.status for child in _children(application)] == [
        Application.Status.REJECTED,
        Application.Status.COMPLETED,
    ]
    assert BundleApplication.objects.get(pk=application.pk).status == BundleApplication.Status.COMPLETED
    assert Message.objects.filter(event="bundle_completed").count() == 1


# --- pages ---------------------------------------------------------------------------------


def test_the_theme_page_offers_the_bundle_at_once(bundle):
    page = Client().get(reverse("services:theme", args=[bundle.theme.slug])).content.decode()

    assert reverse("bundles:start", args=["birth"]) in page


def test_a_level_one_user_is_sent_to_verify_and_back(bundle, citizen):
    citizen.real_name_level = RealNameLevel.UNVERIFIED
    citizen.save(update_fields=["real_name_level"])
    start = reverse("bundles:start", args=["birth"])

    response = logged_in(citizen).post(start)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:verify')}?next={start.replace('/', '%2F')}"
    assert BundleApplication.objects.count() == 0


def test_a_citizen_applies_for_the_bundle_through_the_pages(bundle, citizen):
    client = logged_in(citizen)
    start = reverse("bundles:start", args=["birth"])
    page = client.get(start)
    assert page.status_code == 200
    assert "预防接种证办理" in page.content.decode()

    response = client.post(start)
    application = BundleApplication.objects.get()
    assert response["Location"] == reverse("bundles:bundle", args=[application.public_id])
    assert client.get(response["Location"]).status_code == 200

    steps = [reverse("bundles:step", args=[application.public_id, number]) for number in (1, 2, 3)]
    # step 1 shows the prefilled name
    assert WANG_XIAOMING.name in client.get(steps[0]).content.decode()
    # a wrong phone number: shown on the step, nothing saved anywhere
    wrong = client.post(steps[1], {"phone": "12345", "delivery": "electronic", "declaration": "yes"})
    assert wrong.status_code == 400
    assert 'aria-invalid="true"' in wrong.content.decode()
    assert all("phone" not in child.data for child in _children(application))

    posts = [
        {
            "applicant_name": WANG_XIAOMING.name,
            "applicant_id_number": WANG_XIAOMING.id_number,
            "gender": "male",
            "household_address__region": "330106000000",
            "household_address__detail": "文二西路翠苑一区12幢",
        },
        {"phone": "13712349050", "delivery": "electronic", "declaration": "yes"},
        {"reason": "办理入学手续需要。", "baby_name": "王小小"},
    ]
    for url, posted in zip(steps, posts, strict=True):
        assert client.post(url, posted).status_code == 302, url
    assert [child.data["phone"] for child in _children(application)] == ["13712349050", "13712349050"]

    materials = reverse("bundles:materials", args=[application.public_id])
    assert client.post(materials, {"material": "photo", "file": pdf_upload("照片.pdf")}).status_code == 302
    assert "照片.pdf" in client.get(materials).content.decode()
    assert Attachment.objects.filter(material_code="photo").count() == 2

    check = reverse("bundles:check", args=[application.public_id])
    check_page = client.get(check)
    assert check_page.status_code == 200
    assert check_page.context["problems"] == []
    token = check_page.context["submit_token"]
    first = client.post(check, {"submit_token": token, "declaration": "yes"})
    second = client.post(check, {"submit_token": token, "declaration": "yes"})

    bundle_page = reverse("bundles:bundle", args=[application.public_id])
    assert first["Location"] == second["Location"] == bundle_page
    children = _children(application)
    assert {child.status for child in children} == {Application.Status.SUBMITTED}
    assert Outbox.objects.count() == 2
    page = client.get(bundle_page).content.decode()
    for child in children:
        assert child.number in page
    # the draft pages now lead to the bundle's page
    assert client.get(steps[0])["Location"] == bundle_page


def test_the_check_page_lists_what_any_item_is_missing_and_submits_nothing(bundle, citizen):
    application = bundle_actions.bundle_draft_start(user=citizen, slug="birth")
    client = logged_in(citizen)
    with translation.override("en"):
        check = reverse("bundles:check", args=[application.public_id])
    token = client.get(check).context["submit_token"]

    response = client.post(check, {"submit_token": token, "declaration": "yes"})

    assert response.status_code == 400
    problems = {(problem["label"], problem["url"]) for problem in response.context["problems"]}
    with translation.override("en"):
        step = reverse("bundles:step", args=[application.public_id, 2])
        assert problems == {
            ("Phone number", step),
            ("How you receive the result", step),
            ("I declare that the information and documents given are true and complete", step),
            ("Why you apply", reverse("bundles:step", args=[application.public_id, 3])),
            ("Baby's name", reverse("bundles:step", args=[application.public_id, 3])),
            ("Materials", reverse("bundles:materials", args=[application.public_id])),
        }
    assert Application.objects.filter(number__isnull=False).count() == 0


def test_the_bundle_page_shows_one_timeline_of_both_items(bundle, citizen, clerk, other_clerk):
    application = _ready(citizen)
    bundle_actions.bundle_submit(bundle_id=application.pk, user=citizen)
    residence_child, vaccination_child = _children(application)
    _route()
    claim_and_decide(_open_task(residence_child).pk, clerk, APPROVE)
    _route()

    events = bundle_selectors.bundle_timeline(application)

    expected = ApplicationEvent.objects.filter(application__in=[residence_child, vaccination_child])
    assert len(events) == expected.count()
    assert [event.at for event in events] == sorted(event.at for event in events)
    assert {event.item_name for event in events} == {"居住证明开具", "预防接种证办理"}
    with translation.override("en"):
        page = logged_in(citizen).get(reverse("bundles:bundle", args=[application.public_id])).content.decode()
    assert "居住证明开具: Completed" in page
    assert "预防接种证办理: Application submitted" in page
    assert "居住证明开具: Application submitted" in page


def test_the_bundle_page_has_a_fixed_number_of_queries(bundle, citizen, clerk, other_clerk):
    application = _ready(citizen)
    bundle_actions.bundle_submit(bundle_id=application.pk, user=citizen)
    client = logged_in(citizen)
    url = reverse("bundles:bundle", args=[application.public_id])
    client.get(url)
    _response, queries = get_counting_queries(client, url)
    assert_query_count(queries, 5)

    # more events on both children: the same queries
    _route()
    for child, who in zip(_children(application), (clerk, other_clerk), strict=True):
        claim_and_decide(_open_task(child).pk, who, APPROVE)
    _route()
    _response, queries = get_counting_queries(client, url)
    assert_query_count(queries, 5)


def test_another_citizen_gets_404_on_every_bundle_page(bundle, citizen, other_citizen):
    draft = bundle_actions.bundle_draft_start(user=citizen, slug="birth")
    client = logged_in(other_citizen)
    assert client.get(reverse("bundles:bundle", args=[draft.public_id])).status_code == 404
    pages = [
        reverse("bundles:step", args=[draft.public_id, 1]),
        reverse("bundles:materials", args=[draft.public_id]),
        reverse("bundles:check", args=[draft.public_id]),
    ]

    for url in pages:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"phone": "13900000000", "material": "photo"}).status_code == 404, url
    assert client.post(reverse("bundles:delete", args=[draft.public_id])).status_code == 404
    with pytest.raises(NotFound):
        bundle_actions.bundle_draft_update(bundle_id=draft.pk, user=other_citizen, data={"phone": "13900000000"})
    with pytest.raises(NotFound):
        bundle_actions.bundle_submit(bundle_id=draft.pk, user=other_citizen)
    assert all("phone" not in child.data for child in _children(draft))

    # and once submitted, its page too
    bundle_actions.bundle_draft_update(bundle_id=draft.pk, user=citizen, data=_answers())
    bundle_actions.bundle_attachment_add(bundle_id=draft.pk, user=citizen, upload=pdf_upload(), material_code="photo")
    bundle_actions.bundle_submit(bundle_id=draft.pk, user=citizen)
    assert client.get(reverse("bundles:bundle", args=[draft.public_id])).status_code == 404
    assert Client().get(reverse("bundles:bundle", args=[draft.public_id])).status_code == 302  # to the login


# --- drafts that are left ----------------------------------------------------------------------


def test_an_expired_bundle_draft_is_deleted_with_its_children_and_files(
    bundle, citizen, upload_root, django_capture_on_commit_callbacks
):
    application = _ready(citizen)
    other = bundle_actions.bundle_draft_start(user=citizen, slug="birth")
    BundleApplication.objects.filter(pk=application.pk).update(
        draft_expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )

    with pytest.raises(NotFound):
        bundle_selectors.bundle_for_owner(citizen, "not-a-uuid")
    with django_capture_on_commit_callbacks(execute=True):
        assert bundle_actions.bundle_drafts_sweep() == 1

    assert list(BundleApplication.objects.values_list("pk", flat=True)) == [other.pk]
    assert Application.objects.filter(bundle_application__isnull=True).count() == 0
    assert Attachment.objects.count() == 0
    assert not [path for path in upload_root.rglob("*") if path.is_file()]
    # the single drafts' sweep leaves bundle children alone: they have no expiry of their own
    assert actions.drafts_sweep() == (0, 0)
    assert Application.objects.filter(bundle_application=other).count() == 2
