"""文号: a serial per department, kind of document and year, given once, without gaps or duplicates."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from approvals.document_numbers import number_document
from approvals.documents import notices
from approvals.journal import record_event
from approvals.models import Application, ApplicationEvent, DocumentNumber, DocumentSequence, Outcome
from services.models import Department, ServiceItem
from tests.approvals.builders import make_applicable_item, submitted
from tests.approvals.helpers import at_once
from tests.datahub.builders import make_wang_household
from tests.services.factories import DepartmentFactory, region

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

Event = ApplicationEvent.Action


@pytest.fixture
def coded(department: Department) -> Department:
    department.short_name = "杭市监"
    department.document_code = "杭市监局"
    department.save(update_fields=["short_name", "document_code"])
    return department


def _issue(application: Application, action: str, **details: str) -> ApplicationEvent:
    with transaction.atomic():
        return record_event(application, action, actor=None, details=details)


def _numbers(application: Application) -> list[str]:
    return [document.number for document in notices.documents_of(application)]


def test_each_kind_counts_from_one_per_department_and_year_and_prefers_the_document_code(
    coded, item, citizen, other_department
):
    year = timezone.localdate().year
    first, second = submitted(citizen, item), submitted(citizen, item)
    elsewhere = submitted(citizen, make_applicable_item(department=other_department))

    _issue(first, Event.ACCEPTED)
    _issue(second, Event.ACCEPTED)
    _issue(second, Event.SUPPLEMENT_REQUESTED)
    _issue(first, Event.DECIDED, outcome=Outcome.ISSUED)
    _issue(elsewhere, Event.ACCEPTED)

    assert _numbers(first) == [f"杭市监局受〔{year}〕1号", f"杭市监局准〔{year}〕1号"]
    assert _numbers(second) == [f"杭市监局受〔{year}〕2号", f"杭市监局补〔{year}〕1号"]
    # 宁波市民政局 has no short name or code: its full name stands for it.
    assert _numbers(elsewhere) == [f"宁波市民政局受〔{year}〕1号"]


def test_events_that_issue_no_document_take_no_number(item, citizen):
    application = submitted(citizen, item)

    _issue(application, Event.ROUTED)
    _issue(application, Event.DECIDED, outcome=Outcome.DELETED)

    assert not DocumentNumber.objects.exists()
    assert not DocumentSequence.objects.exists()


def test_a_decision_recorded_twice_keeps_its_first_number_and_takes_no_second_serial(coded, item, citizen):
    year = timezone.localdate().year
    application = submitted(citizen, item)
    decided = _issue(application, Event.DECIDED, outcome=Outcome.REFUSED)

    _issue(application, Event.DECIDED, outcome=Outcome.REFUSED)  # routing ran twice
    again = number_document(decided)

    assert again is not None
    assert again.number == f"杭市监局不准〔{year}〕1号"
    assert DocumentSequence.objects.get().last == 1
    assert _numbers(application) == [f"杭市监局不准〔{year}〕1号"]


def test_a_number_once_given_stays_when_the_department_changes_its_code(coded, item, citizen):
    year = timezone.localdate().year
    application = submitted(citizen, item)
    _issue(application, Event.ACCEPTED)

    coded.document_code = "杭监"
    coded.save(update_fields=["document_code"])

    assert _numbers(application) == [f"杭市监局受〔{year}〕1号"]


def test_a_document_issued_before_the_register_keeps_the_number_that_embeds_the_application_number(
    coded, item, citizen
):
    year = timezone.localdate().year
    application = submitted(citizen, item)
    _issue(application, Event.ACCEPTED)
    DocumentNumber.objects.all().delete()

    assert _numbers(application) == [f"杭市监受〔{year}〕{application.number}号"]


def test_a_rolled_back_decision_gives_its_serial_back(coded, item, citizen):
    year = timezone.localdate().year
    first, second = submitted(citizen, item), submitted(citizen, item)

    def fail_after_the_event() -> None:
        with transaction.atomic():
            record_event(first, Event.ACCEPTED, actor=None)
            raise RuntimeError("the decision failed after the event")

    with pytest.raises(RuntimeError):
        fail_after_the_event()
    _issue(second, Event.ACCEPTED)

    assert _numbers(first) == []
    assert _numbers(second) == [f"杭市监局受〔{year}〕1号"]


# --- two clerks deciding at once (committed transactions, one connection each) -------------


@pytest.fixture
def county_item(db: None) -> ServiceItem:
    department = DepartmentFactory.create(
        name="杭州市西湖区民政局", document_code="西湖民", region=region("330106000000", "西湖区")
    )
    make_wang_household()
    return make_applicable_item(department=department)


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql_only
def test_clerks_deciding_at_once_get_consecutive_serials_without_gaps_or_duplicates(
    county_item: ServiceItem, citizen: User
) -> None:
    year = timezone.localdate().year
    applications = [submitted(citizen, county_item) for _ in range(5)]

    def decide(index: int) -> str:
        with transaction.atomic():
            record_event(applications[index], Event.DECIDED, actor=None, details={"outcome": Outcome.ISSUED})
            if index == 4:
                raise RuntimeError("this clerk's decision fails and rolls back")
        return DocumentNumber.objects.get(application=applications[index]).number

    def decide_keeping_errors(index: int) -> str | None:
        try:
            return decide(index)
        except RuntimeError:
            return None

    numbers = at_once(5, decide_keeping_errors)

    assert numbers[4] is None
    assert sorted(numbers[:4]) == sorted(f"西湖民准〔{year}〕{serial}号" for serial in (1, 2, 3, 4))
    assert DocumentSequence.objects.get().last == 4


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql_only
def test_one_decision_routed_twice_at_once_takes_one_number(county_item: ServiceItem, citizen: User) -> None:
    year = timezone.localdate().year
    application = submitted(citizen, county_item)

    def route_the_decision(_index: int) -> str:
        with transaction.atomic():
            record_event(application, Event.DECIDED, actor=None, details={"outcome": Outcome.ISSUED})
        return DocumentNumber.objects.get(application=application).number

    numbers = at_once(2, route_the_decision)

    assert numbers == [f"西湖民准〔{year}〕1号"] * 2
    assert DocumentSequence.objects.get().last == 1
