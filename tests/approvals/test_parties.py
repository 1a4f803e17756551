"""结婚登记 by two people: the other party confirms, both are checked in the registry, a clerk decides at the visit."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from approvals.applications import actions, parties, submission
from approvals.documents.notices import GRANT, NON_ACCEPTANCE, document_for, document_text
from approvals.models import Application, ApplicationParty, Outbox, WorkflowTask
from approvals.routing import deadlines
from approvals.routing.engine import outbox_process
from core import crypto
from core.errors import Conflict, DomainError
from datahub.models import ID_NUMBER_HASH_PURPOSE, DataAccessLog, MaritalStatus
from demo.registry_data import CHEN_HAOYU, LIN_XIAOYAN, WANG_XIAOMING, ZHAO_LI, PersonSpec
from interaction.models import Message
from services.models import Department, ServiceItem
from tests.approvals.builders import claim_and_decide
from tests.approvals.marriage import (
    YOUNG_MAN,
    divorce_answers,
    make_couple,
    make_divorce_item,
    make_marriage_item,
    marriage_answers,
    marriage_draft,
    marriage_submitted,
)
from tests.datahub.builders import make_person
from tests.factories import email_user, give_identity, staff_member
from tests.services.builders import make_department

# Messages are read in English.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def bride(db: None) -> User:
    return give_identity(email_user("bride@example.com"), ZHAO_LI)


@pytest.fixture
def groom(db: None) -> User:
    return give_identity(email_user("groom@example.com"), CHEN_HAOYU)


@pytest.fixture
def registry_office() -> Department:
    return make_department(name="杭州市西湖区民政局")


def _reads_of(spec_number: str) -> int:
    hashes = crypto.keyed_hashes(spec_number, purpose=ID_NUMBER_HASH_PURPOSE)
    return DataAccessLog.objects.filter(subject_hash__in=hashes).count()


def test_submitting_waits_for_the_other_party_and_reads_nothing_about_them(bride: User, groom: User) -> None:
    # given the couple in the registry and the item
    make_couple()
    item = make_marriage_item()
    reads_of_groom_before = _reads_of(CHEN_HAOYU.id_number)

    # when the bride submits and the groom does nothing
    application = marriage_submitted(bride, item)

    # then it is submitted but not routed, the groom's data unread, and he is told
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    assert Outbox.objects.filter(application=application).count() == 0
    assert WorkflowTask.objects.filter(application=application).count() == 0
    assert _reads_of(CHEN_HAOYU.id_number) == reads_of_groom_before
    assert _reads_of(ZHAO_LI.id_number) >= 1  # her own, by her own consent
    states = {party.role: party.confirmed_at is None for party in application.parties.all()}
    assert states == {"male": True, "female": False}
    assert list(parties.pending_for(groom)) == [application.parties.get(role="male")]
    assert Message.objects.filter(recipient=groom, event="party_confirmation_requested").count() == 1


def test_the_groom_confirms_then_the_registrar_registers_at_the_visit(
    bride: User, groom: User, registry_office: Department
) -> None:
    # given a submitted application
    make_couple()
    item = make_marriage_item(department=registry_office)
    application = marriage_submitted(bride, item)

    # when the groom confirms (twice: a double click)
    parties.party_confirm(number=str(application.number), user=groom)
    parties.party_confirm(number=str(application.number), user=groom)

    # then it is routed once to a clerk's task at the registry office, and not decided by the machine
    outbox = Outbox.objects.get(application=application)
    outbox_process(outbox_id=outbox.pk)
    application.refresh_from_db()
    assert application.status == Application.Status.ACCEPTED
    task = WorkflowTask.objects.get(application=application)
    assert (task.name, task.department_id, task.status) == ("审查并登记", registry_office.pk, "pending")
    assert Message.objects.filter(recipient=bride, event="party_confirmed").count() == 1

    # when the registrar registers them at the visit
    clerk = staff_member("registrar@example.com", registry_office)
    claim_and_decide(task.pk, clerk, "同意")
    for pending in Outbox.objects.filter(processed_at__isnull=True):
        outbox_process(outbox_id=pending.pk)

    # then it is granted, and the decision names both
    application.refresh_from_db()
    assert application.status == Application.Status.COMPLETED
    particulars, _body = document_text(application, document_for(application, GRANT))
    assert particulars[:2] == [
        f"男方：陈浩宇（居民身份证 {CHEN_HAOYU.id_number[0]}{'*' * 16}{CHEN_HAOYU.id_number[-1]}）",
        f"女方：赵丽（居民身份证 {ZHAO_LI.id_number[0]}{'*' * 16}{ZHAO_LI.id_number[-1]}）",
    ]


def test_a_party_already_married_is_refused_naming_why(bride: User) -> None:
    # given 王小明, married to 林晓燕 in the registry, named as the groom
    make_couple()
    make_person(WANG_XIAOMING)
    make_person(LIN_XIAOYAN)
    wang = give_identity(email_user("wang@example.com"), WANG_XIAOMING)
    item = make_marriage_item()
    application = marriage_submitted(bride, item, man=WANG_XIAOMING)

    # when he confirms
    parties.party_confirm(number=str(application.number), user=wang)

    # then it is not accepted, nothing is routed, and both are told why
    application.refresh_from_db()
    assert application.status == Application.Status.NOT_ACCEPTED
    assert Outbox.objects.filter(application=application).count() == 0
    event = application.events.get(details__registry_check=True)
    # on record in the record's language, though he confirmed in English
    assert "人口库登记男方为已婚" in event.note
    assert Message.objects.filter(recipient=bride, event="party_check_failed").count() == 1
    assert Message.objects.filter(recipient=wang, event="party_check_failed").count() == 1
    _particulars, body = document_text(application, document_for(application, NON_ACCEPTANCE))
    assert f"理由：{event.note}" in body


def test_an_applicant_already_married_cannot_submit(bride: User) -> None:
    # given the married 王小明 applying with 赵丽
    make_couple()
    make_person(WANG_XIAOMING)
    wang = give_identity(email_user("wang@example.com"), WANG_XIAOMING)
    item = make_marriage_item()
    draft = marriage_draft(wang, item, man=WANG_XIAOMING)

    # when he submits, then he is refused and nothing changes; 赵丽's data is not read
    with pytest.raises(DomainError, match="records the man as married"):
        submission.application_submit(application_id=draft.pk, user=wang)
    draft.refresh_from_db()
    assert (draft.status, draft.number) == (Application.Status.DRAFT, None)
    assert ApplicationParty.objects.count() == 0
    assert _reads_of(ZHAO_LI.id_number) == 0


def test_a_wrong_name_for_the_number_is_refused(bride: User, groom: User) -> None:
    # given the groom's number with another name
    make_couple()
    item = make_marriage_item()
    application = marriage_submitted(bride, item, male_name="陈浩")

    # when he confirms
    parties.party_confirm(number=str(application.number), user=groom)

    # then the names and numbers do not match the registry
    application.refresh_from_db()
    assert application.status == Application.Status.NOT_ACCEPTED
    assert "男方的姓名与身份号码与人口库登记信息不一致" in application.events.get(details__registry_check=True).note


def test_a_groom_below_the_legal_age_is_refused(bride: User) -> None:
    # given a man of 21
    make_couple()
    make_person(YOUNG_MAN)
    young = give_identity(email_user("young@example.com"), YOUNG_MAN)
    item = make_marriage_item()
    application = marriage_submitted(bride, item, man=YOUNG_MAN)

    # when he confirms
    parties.party_confirm(number=str(application.number), user=young)

    # then he is under the legal age of marriage
    application.refresh_from_db()
    assert application.status == Application.Status.NOT_ACCEPTED
    assert "男方未达法定婚龄（22周岁）" in application.events.get(details__registry_check=True).note


def test_the_applicant_cannot_confirm_for_the_other_party(bride: User) -> None:
    make_couple()
    item = make_marriage_item()
    application = marriage_submitted(bride, item)

    # when the bride "confirms" as well: she is only ever her own party, confirmed when she submitted
    parties.party_confirm(number=str(application.number), user=bride)

    assert list(parties.pending_for(bride)) == []
    assert application.parties.get(role="male").confirmed_at is None
    assert Outbox.objects.filter(application=application).count() == 0


def test_a_third_person_can_neither_see_nor_confirm(bride: User, citizen: User) -> None:
    make_couple()
    item = make_marriage_item()
    application = marriage_submitted(bride, item)
    client = Client()
    client.force_login(citizen)

    page = client.get(reverse("approvals:confirmations"))
    response = client.post(reverse("approvals:party_confirm", kwargs={"number": application.number}))

    assert str(application.number) not in page.content.decode()
    assert response.status_code == 404
    assert application.parties.get(role="male").confirmed_at is None
    assert Outbox.objects.filter(application=application).count() == 0


def test_the_applicant_must_be_one_of_the_parties(citizen: User) -> None:
    # given 王小明 naming two other people
    make_couple()
    item = make_marriage_item()
    draft = marriage_draft(citizen, item)

    with pytest.raises(DomainError, match="only as one of the parties"):
        submission.application_submit(application_id=draft.pk, user=citizen)
    draft.refresh_from_db()
    assert draft.status == Application.Status.DRAFT


def test_the_groom_declines_and_the_application_ends(bride: User, groom: User) -> None:
    make_couple()
    item = make_marriage_item()
    application = marriage_submitted(bride, item)
    client = Client()
    client.force_login(groom)

    page = client.get(reverse("approvals:confirmations"))
    response = client.post(reverse("approvals:party_decline", kwargs={"number": application.number}))

    assert str(application.number) in page.content.decode()
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.WITHDRAWN
    assert Outbox.objects.filter(application=application).count() == 0
    assert _reads_of(CHEN_HAOYU.id_number) == 0
    assert Message.objects.filter(recipient=bride, event="party_declined").count() == 1


def test_the_registry_knows_marital_status() -> None:
    record = make_person(WANG_XIAOMING)
    assert record.marital_status == MaritalStatus.FIRST_MARRIAGE
    assert record.spouse_id_hash == crypto.keyed_hash(LIN_XIAOYAN.id_number, purpose=ID_NUMBER_HASH_PURPOSE)


def _divorce_draft(user: User, item: ServiceItem, man: PersonSpec, woman: PersonSpec) -> Application:
    application = actions.application_draft_start(user=user, service_code=item.implementation_code)
    actions.application_draft_update(application_id=application.pk, user=user, data=divorce_answers(man, woman))
    return application


def test_a_divorce_needs_both_spouses_and_goes_to_a_clerk(citizen: User) -> None:
    # given 王小明 and 林晓燕, married to each other
    make_person(WANG_XIAOMING)
    make_person(LIN_XIAOYAN)
    wife = give_identity(email_user("lin@example.com"), LIN_XIAOYAN)
    item = make_divorce_item()
    draft = _divorce_draft(citizen, item, WANG_XIAOMING, LIN_XIAOYAN)

    # when he submits and she confirms
    application, _response = submission.application_submit(application_id=draft.pk, user=citizen)
    assert Outbox.objects.filter(application=application).count() == 0
    parties.party_confirm(number=str(application.number), user=wife)

    # then it is routed to 受理 by a clerk, never decided by the machine
    outbox_process(outbox_id=Outbox.objects.get(application=application).pk)
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    assert list(application.tasks.values_list("name", flat=True)) == ["受理"]


def test_a_divorce_from_someone_not_married_to_them_is_refused(citizen: User) -> None:
    # given 王小明 naming 赵丽, who is not his wife
    make_person(WANG_XIAOMING)
    make_couple()
    item = make_divorce_item()
    draft = _divorce_draft(citizen, item, WANG_XIAOMING, ZHAO_LI)

    with pytest.raises(DomainError, match="does not record the man as married to the other party"):
        submission.application_submit(application_id=draft.pk, user=citizen)
    assert ApplicationParty.objects.count() == 0


def test_waiting_for_the_other_party_is_never_deemed_accepted_nor_asked_for_more(
    bride: User, registry_office: Department
) -> None:
    # given an application that has waited three weeks for the groom
    make_couple()
    item = make_marriage_item(department=registry_office)
    application = marriage_submitted(bride, item)
    Application.objects.filter(pk=application.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=21))
    clerk = staff_member("registrar@example.com", registry_office)

    # when the sweep runs and a clerk of the department asks for a 补正
    deemed = deadlines.acceptance_sweep()
    with pytest.raises(Conflict) as refused:
        submission.application_request_supplement(
            application_id=application.pk,
            actor=clerk,
            department_id=registry_office.pk,
            fields=["phone"],
            materials=[],
            note="请核对联系电话。",
        )

    # then nothing happened: it still waits for him, unrouted
    application.refresh_from_db()
    assert (deemed, refused.value.code) == (0, "waiting_for_parties")
    assert (application.status, application.accepted_at) == (Application.Status.SUBMITTED, None)
    assert Outbox.objects.filter(application=application).count() == 0


def test_at_the_counter_the_clerk_sees_both_and_the_registry_checks_both_at_once(registry_office: Department) -> None:
    # given a clerk recording 结婚登记 for 赵丽 and 陈浩宇, both at the counter
    make_couple()
    item = make_marriage_item(department=registry_office)
    clerk = staff_member("registrar@example.com", registry_office)
    draft = actions.application_counter_start(
        clerk=clerk,
        department_id=registry_office.pk,
        service_code=item.implementation_code,
        name=ZHAO_LI.name,
        id_type="111",
        id_number=ZHAO_LI.id_number,
    )
    actions.application_draft_update(application_id=draft.pk, user=clerk, data=marriage_answers())

    # when the clerk submits
    application, _response = submission.application_submit(application_id=draft.pk, user=clerk)

    # then both are confirmed and checked, and it is routed at once
    assert sorted(application.parties.values_list("role", flat=True)) == ["female", "male"]
    assert not parties.is_waiting(application)
    assert Outbox.objects.filter(application=application).count() == 1
    assert _reads_of(CHEN_HAOYU.id_number) == 1


def test_the_confirmation_pages_need_a_login_and_confirming_needs_a_post(bride: User, groom: User) -> None:
    make_couple()
    application = marriage_submitted(bride, make_marriage_item())
    confirm = reverse("approvals:party_confirm", kwargs={"number": application.number})
    anonymous = Client()
    signed_in = Client()
    signed_in.force_login(groom)

    assert anonymous.get(reverse("approvals:confirmations")).status_code == 302
    assert anonymous.post(confirm).status_code == 302
    assert signed_in.get(confirm).status_code == 405
    assert str(application.number) in signed_in.get(reverse("accounts:me")).content.decode()  # 待我确认 on /me/
    assert application.parties.get(role="male").confirmed_at is None
    assert signed_in.post(confirm).status_code == 302
    assert application.parties.get(role="male").confirmed_at is not None
