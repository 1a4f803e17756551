"""The applicant's pages without JavaScript: start, steps, materials, check, submit, track, counter."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import RealNameLevel
from approvals.applications import actions, submission
from approvals.models import Application, AttachmentView, Channel
from core import crypto
from datahub.identity import mask_id
from datahub.models import DataAccessLog
from demo.registry_data import LIN_XIAOYAN, WANG_XIAOMING, WANG_YUTONG
from interaction.models import Message
from tests.approvals.builders import make_applicable_item, pdf_upload, ready_draft, submitted
from tests.datahub.builders import make_wang_household
from tests.factories import enroll_totp
from tests.helpers import assert_query_count, get_counting_queries, logged_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


def test_a_level_one_user_is_sent_to_verify_and_back(item, citizen):
    # given a user who never verified their real name
    citizen.real_name_level = RealNameLevel.UNVERIFIED
    citizen.save(update_fields=["real_name_level"])
    start = reverse("approvals:start", args=[item.implementation_code])

    response = logged_in(citizen).post(start)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:verify')}?next={start.replace('/', '%2F')}"
    assert Application.objects.count() == 0


def test_a_level_two_user_is_sent_to_the_face_check_for_a_level_three_service(department, other_citizen):
    make_wang_household()
    item = make_applicable_item(department=department, min_real_name_level=3)
    start = reverse("approvals:start", args=[item.implementation_code])

    response = logged_in(other_citizen).get(start, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:face_check") + "?next=")
    assert Application.objects.count() == 0
    # the level is named as people know it
    told = [str(message) for message in get_messages(response.wsgi_request)]
    assert told == [f"申请{item.name}需要高级实名，请先完成实名认证。"]


def test_a_citizen_applies_step_by_step_with_prefill_and_submits_once(item, citizen):
    client = logged_in(citizen)
    start = reverse("approvals:start", args=[item.implementation_code])
    assert client.get(start).status_code == 200

    # start: a draft, prefilled from the population registry, each read logged
    response = client.post(start)
    application = Application.objects.get()
    assert response["Location"] == reverse("approvals:draft", args=[application.public_id])
    assert application.data["applicant_name"] == WANG_XIAOMING.name
    assert DataAccessLog.objects.filter(actor=citizen, purpose__contains=item.implementation_code).count() == 1

    # step 1 shows the prefilled name and says where it came from
    step_one = client.get(reverse("approvals:draft_step", args=[application.public_id, 1]))
    page = step_one.content.decode()
    assert WANG_XIAOMING.name in page
    assert "人口库" in page or "population registry" in page

    # a wrong phone number on its step: shown next to the field, summarised, nothing saved
    steps = [reverse("approvals:draft_step", args=[application.public_id, n]) for n in (1, 2, 3)]
    contact_step = next(url for url in steps if 'name="phone"' in client.get(url).content.decode())
    wrong = client.post(contact_step, {"phone": "12345", "delivery": "electronic", "declaration": "yes"})
    assert wrong.status_code == 400
    assert 'id="error-summary"' in wrong.content.decode()
    assert 'aria-invalid="true"' in wrong.content.decode()
    application.refresh_from_db()
    assert "phone" not in application.data

    # the right answers on every step
    for url in steps:
        form = client.get(url).content.decode()
        posted = {}
        if 'name="reason"' in form:
            posted["reason"] = "办理入学手续需要。"
        if 'name="phone"' in form:
            posted.update({"phone": "13712349050", "delivery": "electronic", "declaration": "yes"})
        if 'name="applicant_name"' in form:
            posted.update(
                {
                    "applicant_name": WANG_XIAOMING.name,
                    "applicant_id_number": WANG_XIAOMING.id_number,
                    "gender": "male",
                    "household_address__region": "330106000000",
                    "household_address__detail": "文二西路翠苑一区12幢",
                }
            )
        assert client.post(url, posted).status_code == 302, url

    # materials: the registry covers one, the photo is uploaded
    materials = reverse("approvals:draft_materials", args=[application.public_id])
    assert client.post(materials, {"material": "photo", "file": pdf_upload("照片.pdf")}).status_code == 302
    page = client.get(materials).content.decode()
    assert "照片.pdf" in page

    # check your answers, then submit twice with the same page (a double click)
    check = reverse("approvals:draft_check", args=[application.public_id])
    check_page = client.get(check, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert check_page.status_code == 200
    # a prefilled answer says where it came from, in the page's own punctuation
    assert f'{WANG_XIAOMING.name}<span class="hint">（来自人口库）</span>' in check_page.content.decode()
    token = check_page.context["submit_token"]
    first = client.post(check, {"submit_token": token, "declaration": "yes"})
    second = client.post(check, {"submit_token": token, "declaration": "yes"})

    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    assert first["Location"] == second["Location"] == reverse("approvals:application", args=[application.number])
    assert Application.objects.count() == 1
    assert Message.objects.filter(recipient=citizen, event="application_submitted").count() == 1

    # the application page shows the number and the query password to its owner
    page = client.get(first["Location"]).content.decode()
    assert application.number in page
    assert crypto.decrypt(application.query_password_encrypted) in page
    # and it is listed under my applications
    assert application.number in client.get(reverse("approvals:mine")).content.decode()


def test_submitting_without_the_declaration_or_a_material_says_what_is_missing(item, citizen):
    application = actions.application_draft_start(user=citizen, service_code=item.implementation_code)
    client = logged_in(citizen)
    check = reverse("approvals:draft_check", args=[application.public_id])
    token = client.get(check).context["submit_token"]

    response = client.post(check, {"submit_token": token})

    assert response.status_code == 400
    assert response.context["declaration_error"]
    with translation.override("en"):
        page = client.get(reverse("approvals:draft_check", args=[application.public_id])).content.decode()
    assert "证件照片" in page  # the missing photo is listed
    application.refresh_from_db()
    assert application.status == Application.Status.DRAFT


def test_another_citizen_sees_nothing_of_my_application(item, citizen, other_citizen):
    application = submitted(citizen, item)
    attachment = application.attachments.get()
    client = logged_in(other_citizen)

    assert client.get(reverse("approvals:application", args=[application.number])).status_code == 404
    assert client.get(reverse("approvals:attachment", args=[attachment.public_id])).status_code == 404
    assert client.get(reverse("approvals:withdraw", args=[application.number])).status_code == 404
    assert client.post(reverse("approvals:withdraw", args=[application.number])).status_code == 404
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED


def test_the_owner_downloads_their_file_decrypted_and_never_cached(item, citizen):
    application = submitted(citizen, item)
    attachment = application.attachments.get()

    response = logged_in(citizen).get(reverse("approvals:attachment", args=[attachment.public_id]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert response["Content-Type"] == "application/pdf"
    assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}
    assert "attachment" in response["Content-Disposition"]
    assert AttachmentView.objects.count() == 0  # the owner's own views are not staff views


def test_a_download_is_named_for_what_its_content_was_checked_to_be(item, citizen):
    """A PDF uploaded as poly.html is a PDF: offered as poly.pdf, never under a name a browser would run as a page."""
    application = actions.application_draft_start(user=citizen, service_code=item.implementation_code)
    actions.attachment_add(
        application_id=application.pk, user=citizen, upload=pdf_upload("poly.html"), material_code="photo"
    )
    attachment = application.attachments.get()

    response = logged_in(citizen).get(reverse("approvals:attachment", args=[attachment.public_id]))

    assert attachment.original_name == "poly.html"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="poly.pdf"'


def test_an_upload_with_the_wrong_content_is_refused_on_the_page(item, citizen):
    application = actions.application_draft_start(user=citizen, service_code=item.implementation_code)
    materials = reverse("approvals:draft_materials", args=[application.public_id])

    with translation.override("en"):
        response = logged_in(citizen).post(
            materials, {"material": "photo", "file": pdf_upload("photo.pdf", b"MZ\x90\x00 not a pdf")}
        )

    assert response.status_code == 400
    assert application.attachments.count() == 0


def test_withdraw_asks_then_withdraws(item, citizen):
    application = submitted(citizen, item)
    client = logged_in(citizen)
    url = reverse("approvals:withdraw", args=[application.number])

    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": "不需要了"}).status_code == 302

    application.refresh_from_db()
    assert application.status == Application.Status.WITHDRAWN
    assert client.get(url).status_code == 403


def test_supplement_page_changes_only_what_was_asked(item, citizen, clerk):
    application = submitted(citizen, item)
    submission.application_request_supplement(
        application_id=application.pk,
        actor=clerk,
        department_id=item.department_id,
        fields=["reason"],
        materials=[],
        note="请写明需要证明的用途。",
    )
    client = logged_in(citizen)
    url = reverse("approvals:supplement", args=[application.number])

    page = client.get(url).content.decode()
    assert "请写明需要证明的用途。" in page
    assert 'name="reason"' in page
    assert 'name="phone"' not in page

    response = client.post(url, {"reason": "用于子女入学登记。", "phone": "13900000000"})

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED  # asked before acceptance: waits for it again
    assert application.data["reason"] == "用于子女入学登记。"
    assert application.data["phone"] == "13712349050"  # not asked, so not changed


def test_tracking_shows_status_without_personal_data_and_a_wrong_password_nothing(item, citizen):
    application = submitted(citizen, item)
    password = crypto.decrypt(application.query_password_encrypted)
    client = Client()
    url = reverse("approvals:track")

    found = client.post(url, {"number": application.number, "password": password})
    wrong = client.post(url, {"number": application.number, "password": f"{(int(password) + 1) % 10**6:06d}"})

    assert found.status_code == 200
    page = found.content.decode()
    assert application.number in page
    assert WANG_XIAOMING.name not in page
    assert WANG_XIAOMING.id_number not in page
    assert wrong.status_code == 404
    assert application.number not in wrong.content.decode().replace(f'value="{application.number}"', "")
    assert "status" not in wrong.context or wrong.context["application"] is None


def test_my_applications_page_has_a_fixed_number_of_queries(item, citizen):
    client = logged_in(citizen)
    submitted(citizen, item)
    url = reverse("approvals:mine")
    client.get(url)
    _response, queries = get_counting_queries(client, url)
    assert_query_count(queries, 7)
    for _ in range(3):
        submitted(citizen, item)
    actions.application_draft_start(user=citizen, service_code=item.implementation_code)
    _response, queries = get_counting_queries(client, url)
    assert_query_count(queries, 7)


# --- the counter ----------------------------------------------------------------


def test_a_clerk_without_totp_cannot_reach_the_counter(clerk):
    response = logged_in(clerk).get(reverse("approvals:counter_start"))

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_a_citizen_cannot_reach_the_counter(citizen):
    assert logged_in(citizen).get(reverse("approvals:counter_start")).status_code == 404


def test_a_clerk_records_a_counter_application_for_a_person_with_an_account(item, citizen, clerk):
    enroll_totp(clerk)
    client = logged_in(clerk)

    # a name the registry does not confirm is refused, nothing created
    refused = client.post(
        reverse("approvals:counter_start"),
        {
            "department": item.department_id,
            "service": item.implementation_code,
            "name": "王大明",
            "id_type": "111",
            "id_number": WANG_XIAOMING.id_number,
            "document_seen": "on",
        },
    )
    assert refused.status_code == 400
    assert Application.objects.count() == 0

    response = client.post(
        reverse("approvals:counter_start"),
        {
            "department": item.department_id,
            "service": item.implementation_code,
            "name": WANG_XIAOMING.name,
            "id_type": "111",
            "id_number": WANG_XIAOMING.id_number,
            "document_seen": "on",
        },
    )

    application = Application.objects.get()
    assert response["Location"] == reverse("approvals:draft_step", args=[application.public_id, 1])
    assert (application.channel, application.recorded_by, application.applicant) == (Channel.COUNTER, clerk, citizen)
    assert application.data["applicant_name"] == WANG_XIAOMING.name
    log = DataAccessLog.objects.filter(actor=clerk).order_by("pk")
    assert {entry.department_id for entry in log} == {item.department_id}
    # while the clerk fills it in, the person's account does not see the draft
    assert logged_in(citizen).get(reverse("approvals:draft", args=[application.public_id])).status_code == 404

    actions.application_draft_update(application_id=application.pk, user=clerk, data=_answers())
    actions.attachment_add(application_id=application.pk, user=clerk, upload=pdf_upload(), material_code="photo")
    check = reverse("approvals:draft_check", args=[application.public_id])
    token = client.get(check).context["submit_token"]
    submitted_response = client.post(check, {"submit_token": token, "declaration": "yes"})

    application.refresh_from_db()
    assert submitted_response["Location"] == reverse("approvals:counter_receipt", args=[application.public_id])
    receipt = client.get(submitted_response["Location"]).content.decode()
    assert application.number in receipt
    assert crypto.decrypt(application.query_password_encrypted) in receipt
    # now it is the person's: in their list, with the counter as its channel
    assert application.number in logged_in(citizen).get(reverse("approvals:mine")).content.decode()
    assert application.applicant_id_masked == "3****************4"


def _answers() -> dict[str, object]:
    return {"phone": "13712349050", "reason": "窗口申请。", "delivery": "counter", "declaration": True}


def test_a_draft_of_a_service_no_longer_offered_says_to_start_again(item, citizen):
    application = ready_draft(citizen, item)
    item.status = "retired"
    item.save(update_fields=["status"])

    with translation.override("en"):
        page = logged_in(citizen).get(reverse("approvals:draft", args=[application.public_id])).content.decode()

    assert "no longer offered in this form" in page


def test_a_clerk_of_the_handling_department_opens_a_file_and_the_view_is_kept(item, citizen, clerk, other_clerk):
    attachment = submitted(citizen, item).attachments.get()
    enroll_totp(clerk)
    enroll_totp(other_clerk)
    url = reverse("approvals:staff_attachment", args=[attachment.public_id])

    assert logged_in(other_clerk).get(url).status_code == 404
    assert logged_in(citizen).get(url).status_code == 404  # not staff
    response = logged_in(clerk).get(url)

    assert response.status_code == 200
    view = AttachmentView.objects.get()
    assert (view.attachment, view.viewer, view.department_id) == (attachment, clerk, item.department_id)


def test_the_supplement_page_takes_the_new_file_and_the_answer_in_one_form(item, citizen, clerk):
    application = submitted(citizen, item)
    submission.application_request_supplement(
        application_id=application.pk,
        actor=clerk,
        department_id=item.department_id,
        fields=["reason"],
        materials=["photo"],
        note="请重新上传照片并写明用途。",
    )
    client = logged_in(citizen)
    url = reverse("approvals:supplement", args=[application.number])

    # a file that is not a document: the error sits at its input, the summary links there, the answer is kept
    with translation.override("en"):
        refused = client.post(url, {"reason": "用于子女入学登记。", "file__photo": pdf_upload("x.pdf", b"MZ\x90 not")})
    page = refused.content.decode()
    assert refused.status_code == 400
    assert 'href="#file-photo"' in page
    assert 'id="file-photo-error"' in page
    assert "用于子女入学登记。" in page
    application.refresh_from_db()
    assert application.status == Application.Status.SUPPLEMENT_REQUESTED

    sent = client.post(url, {"reason": "用于子女入学登记。", "file__photo": pdf_upload("新照片.pdf")})

    assert sent.status_code == 302
    application.refresh_from_db()
    assert application.data["reason"] == "用于子女入学登记。"
    assert application.attachments.get(material_code="photo", replaced_at__isnull=True).original_name == "新照片.pdf"


def test_a_parent_applies_for_their_minor_child_and_it_is_recorded_as_done_for_the_child(item, citizen):
    start = reverse("approvals:start", args=[item.implementation_code])
    client = logged_in(citizen)
    before = DataAccessLog.objects.count()

    page = client.get(f"{start}?for=minor").content.decode()

    assert WANG_YUTONG.name in page  # 王雨桐, the minor of 王小明's household, read from the registry
    assert DataAccessLog.objects.count() == before + 1
    response = client.post(start, {"minor": WANG_YUTONG.id_number})

    application = Application.objects.get()
    assert response["Location"] == reverse("approvals:draft", args=[application.public_id])
    assert (application.applicant, application.is_for_minor, application.applicant_name) == (
        citizen,
        True,
        WANG_YUTONG.name,
    )
    assert application.data["applicant_name"] == WANG_YUTONG.name
    assert application.data["applicant_id_number"] == WANG_YUTONG.id_number
    created = application.events.get(action="created")
    assert (created.actor, created.details["guardian"]) == (citizen, citizen.pk)

    # submitting keeps the child as the applicant of record
    actions.application_draft_update(application_id=application.pk, user=citizen, data=_answers())
    actions.attachment_add(application_id=application.pk, user=citizen, upload=pdf_upload(), material_code="photo")
    submitted_application, _response = submission.application_submit(application_id=application.pk, user=citizen)
    assert submitted_application.applicant_name == WANG_YUTONG.name
    assert submitted_application.applicant_id_masked == mask_id(WANG_YUTONG.id_number)


def test_nobody_applies_for_a_child_who_is_not_a_minor_of_their_household(item, citizen, other_citizen):
    with translation.override("en"):
        start = reverse("approvals:start", args=[item.implementation_code])

    refused = logged_in(other_citizen).post(start, {"minor": WANG_YUTONG.id_number})
    adult = logged_in(citizen).post(start, {"minor": LIN_XIAOYAN.id_number})  # his wife: an adult

    assert (refused.status_code, adult.status_code) == (409, 409)
    assert "does not list this person as a minor of your household" in refused.content.decode()
    assert Application.objects.count() == 0
