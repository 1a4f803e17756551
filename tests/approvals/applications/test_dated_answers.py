"""Date bounds hold where the answer is given: a draft's save, submission, and a 补正; not for answers left alone."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from approvals.applications import actions, submission
from approvals.models import Application
from core.errors import DomainError
from demo.catalogue_data.fields import form
from tests.approvals.applications.helpers import NOTE
from tests.approvals.builders import FORM_FIELDS, complete_answers, make_applicable_item, pdf_upload
from tests.datahub.builders import make_wang_household

pytestmark = [pytest.mark.django_db]


def _next_wednesday() -> str:
    today = timezone.localdate()
    return (today + datetime.timedelta(days=(2 - today.weekday() - 1) % 7 + 1)).isoformat()


@pytest.fixture
def appointment_item(department):
    schema, ui = form("测试申请表", (*FORM_FIELDS, "appointment_date"), optional=("postal_address",))
    return make_applicable_item(department=department, form_schema=schema, form_ui=ui)


@pytest.fixture
def draft(appointment_item, citizen) -> Application:
    make_wang_household()  # 王小明's name and number come from the population registry
    application = actions.application_draft_start(user=citizen, service_code=appointment_item.implementation_code)
    actions.application_draft_update(application_id=application.pk, user=citizen, data=complete_answers())
    actions.attachment_add(application_id=application.pk, user=citizen, upload=pdf_upload(), material_code="photo")
    return application


def _submitted_with_an_appointment(draft: Application, citizen) -> Application:
    appointment = {"appointment_date": _next_wednesday()}
    actions.application_draft_update(application_id=draft.pk, user=citizen, data=appointment)
    application, _response = submission.application_submit(application_id=draft.pk, user=citizen)
    return application


def test_a_draft_refuses_a_past_appointment_date_and_keeps_what_it_had(draft, citizen):
    with pytest.raises(DomainError) as error:
        actions.application_draft_update(application_id=draft.pk, user=citizen, data={"appointment_date": "2020-01-01"})

    assert error.value.fields == {"appointment_date": ["The date cannot be before today."]}
    assert "appointment_date" not in Application.objects.get(pk=draft.pk).data


def test_a_supplement_does_not_judge_again_an_appointment_that_has_passed_since_submission(
    draft, citizen, clerk, department
):
    application = _submitted_with_an_appointment(draft, citizen)
    submission.application_request_supplement(
        application_id=application.pk,
        actor=clerk,
        department_id=department.pk,
        fields=["reason"],
        materials=[],
        note=NOTE,
    )
    # the appointment is over by the time the applicant answers
    Application.objects.filter(pk=application.pk).update(data={**application.data, "appointment_date": "2020-01-06"})

    submission.application_supplement(application_id=application.pk, user=citizen, data={"reason": "新的事由。"})

    stored = Application.objects.get(pk=application.pk)
    assert (stored.status, stored.data["reason"], stored.data["appointment_date"]) == (
        "submitted",
        "新的事由。",
        "2020-01-06",
    )


def test_a_supplement_asked_for_the_appointment_refuses_a_past_one(draft, citizen, clerk, department):
    application = _submitted_with_an_appointment(draft, citizen)
    submission.application_request_supplement(
        application_id=application.pk,
        actor=clerk,
        department_id=department.pk,
        fields=["appointment_date"],
        materials=[],
        note=NOTE,
    )

    with pytest.raises(DomainError) as error:
        submission.application_supplement(
            application_id=application.pk, user=citizen, data={"appointment_date": "2020-01-06"}
        )

    assert error.value.fields == {"appointment_date": ["The date cannot be before today."]}


def test_the_api_refuses_to_submit_an_appointment_that_passed_while_it_was_a_draft(draft, citizen):
    appointment = {"appointment_date": _next_wednesday()}
    actions.application_draft_update(application_id=draft.pk, user=citizen, data=appointment)
    # saved when it was still ahead; the day has passed since
    Application.objects.filter(pk=draft.pk).update(
        data={**Application.objects.get(pk=draft.pk).data, "appointment_date": "2020-01-06"}
    )
    client = APIClient()
    client.force_login(citizen)

    response = client.post(
        f"/api/v1/applications/{draft.public_id}/submit/",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {"appointment_date": ["日期不能早于今天。"]}
    assert Application.objects.get(pk=draft.pk).status == "draft"
