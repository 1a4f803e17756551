"""Public tracking (办件查询): number + query password, limits against guessing, a timeline without personal data."""

from __future__ import annotations

import time

import pytest
from django.utils import translation

from accounts.models import User
from approvals.applications import submission, tracking
from approvals.models import Application
from demo.registry_data import WANG_XIAOMING
from services.models import Department
from tests.approvals.builders import make_applicable_item, ready_draft
from tests.approvals.helpers import wrong
from tests.datahub.builders import make_wang_household

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("upload_root", "english")]

NO_MATCH = "No application matches this number and query password."
ADDRESS = "203.0.113.7"
OTHER_ADDRESS = "198.51.100.2"


@pytest.fixture
def submitted_with_password(citizen: User, department: Department) -> tuple[Application, str]:
    make_wang_household()
    item = make_applicable_item(department=department)
    application, response = submission.application_submit(application_id=ready_draft(citizen, item).pk, user=citizen)
    return application, response["query_password"]


def test_the_right_number_and_password_find_the_application(submitted_with_password):
    application, password = submitted_with_password

    found = tracking.track(number=f" {application.number.lower()} ", password=password, address=ADDRESS)

    assert found.application is not None
    assert found.application.pk == application.pk
    assert (found.message, found.is_limited) == ("", False)


def test_a_wrong_password_and_an_unknown_number_get_the_same_answer(submitted_with_password):
    application, password = submitted_with_password
    unknown = application.number[:-4] + "9999"

    wrong_password = tracking.track(number=application.number, password=wrong(password), address=ADDRESS)
    unknown_number = tracking.track(number=unknown, password=password, address=ADDRESS)
    malformed = tracking.track(number=application.number, password="12ab56", address=ADDRESS)

    assert wrong_password == unknown_number == malformed == tracking.TrackOutcome(None, NO_MATCH, is_limited=False)
    assert application.number not in NO_MATCH


def test_after_too_many_wrong_passwords_the_number_is_locked_whoever_asks(submitted_with_password, settings):
    settings.TRACK_FAILURES_PER_NUMBER = 3
    settings.TRACK_LOCKOUT_SECONDS = 900
    application, password = submitted_with_password

    failures = [tracking.track(number=application.number, password=wrong(password), address=ADDRESS) for _ in range(3)]
    locked = tracking.track(number=application.number, password=password, address=ADDRESS)
    locked_elsewhere = tracking.track(number=application.number, password=password, address=OTHER_ADDRESS)

    assert [failure.message for failure in failures] == [NO_MATCH] * 3
    assert locked == locked_elsewhere
    assert locked == tracking.TrackOutcome(
        None, "Too many attempts. Please wait 15 minutes and try again.", is_limited=True
    )


def test_the_lock_ends_when_its_window_has_passed(submitted_with_password, settings):
    # The setting's own minimum (60 s) binds the environment, not a test: a one-second window really expires.
    settings.TRACK_FAILURES_PER_NUMBER = 2
    settings.TRACK_LOCKOUT_SECONDS = 1
    application, password = submitted_with_password
    for _ in range(2):
        tracking.track(number=application.number, password=wrong(password), address=ADDRESS)
    assert tracking.track(number=application.number, password=password, address=ADDRESS).is_limited

    time.sleep(1.5)
    found = tracking.track(number=application.number, password=password, address=ADDRESS)

    assert found.application is not None
    assert found.application.pk == application.pk


def test_one_address_is_limited_in_attempts_and_another_is_not(submitted_with_password, settings):
    settings.TRACK_ATTEMPTS_PER_ADDRESS = 3
    application, password = submitted_with_password

    allowed = [tracking.track(number=application.number, password=password, address=ADDRESS) for _ in range(3)]
    refused = tracking.track(number=application.number, password=password, address=ADDRESS)
    elsewhere = tracking.track(number=application.number, password=password, address=OTHER_ADDRESS)

    assert [outcome.application.pk if outcome.application else None for outcome in allowed] == [application.pk] * 3
    assert (refused.application, refused.is_limited) == (None, True)
    assert elsewhere.application is not None
    assert elsewhere.application.pk == application.pk


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_public_timeline_names_no_one_and_shows_no_notes(language, submitted_with_password, clerk, department):
    application, _password = submitted_with_password
    note = f"请{WANG_XIAOMING.name}（{WANG_XIAOMING.id_number}）补充申请事由。"
    submission.application_request_supplement(
        application_id=application.pk,
        actor=clerk,
        department_id=department.pk,
        fields=["reason"],
        materials=[],
        note=note,
    )

    with translation.override(language):
        events = tracking.public_timeline(application)

    assert [event.department for event in events] == ["", department.name]
    if language == "en":
        assert [event.text for event in events] == ["Application submitted", "More information requested"]
    assert {str(event.at.tzinfo) for event in events} == {"Asia/Shanghai"}
    shown = " ".join(f"{event.text} {event.department}" for event in events)
    for private in (
        WANG_XIAOMING.name,
        WANG_XIAOMING.id_number,
        application.number,
        note,
        clerk.get_full_name(),
        "陈静",
    ):
        assert private not in shown
