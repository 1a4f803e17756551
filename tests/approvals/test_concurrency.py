"""Submissions at the same moment, on PostgreSQL: numbers stay unique and a double submit counts once."""

from __future__ import annotations

import pytest
from django.utils import timezone

from approvals.applications import parties, submission
from approvals.models import Application, ApplicationEvent, ApplicationParty, NumberSequence, Outbox
from demo.registry_data import CHEN_HAOYU, ZHAO_LI
from interaction.models import Message
from tests.approvals.builders import ready_draft
from tests.approvals.helpers import at_once
from tests.approvals.marriage import make_couple, make_marriage_item, marriage_submitted
from tests.factories import email_user, give_identity

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("upload_root")]


def test_fifty_submissions_at_once_get_fifty_consecutive_numbers(item, citizen):
    drafts = [ready_draft(citizen, item) for _ in range(50)]
    prefix = f"{item.implementation_code}{timezone.localdate():%Y%m%d}"

    results = at_once(50, lambda index: submission.application_submit(application_id=drafts[index].pk, user=citizen))

    numbers = sorted(response["number"] for _application, response in results)
    assert numbers == [f"{prefix}{sequence:04d}" for sequence in range(1, 51)]
    assert sorted(Application.objects.values_list("number", flat=True)) == numbers
    assert set(Application.objects.values_list("status", flat=True)) == {"submitted"}
    assert list(NumberSequence.objects.values_list("implementation_code", "last")) == [(item.implementation_code, 50)]
    assert Outbox.objects.count() == 50
    assert ApplicationEvent.objects.filter(action="submitted").count() == 50


def test_one_draft_submitted_from_ten_threads_at_once_is_numbered_and_routed_once(item, citizen):
    draft = ready_draft(citizen, item)

    results = at_once(10, lambda _index: submission.application_submit(application_id=draft.pk, user=citizen))

    responses = [response for _application, response in results]
    assert all(response == responses[0] for response in responses)
    application = Application.objects.get(pk=draft.pk)
    assert (application.status, application.number) == ("submitted", responses[0]["number"])
    assert responses[0]["number"].endswith("0001")
    assert NumberSequence.objects.get().last == 1
    assert list(Outbox.objects.values_list("application_id", flat=True)) == [draft.pk]
    assert ApplicationEvent.objects.filter(application=draft, action="submitted").count() == 1
    assert Message.objects.filter(event="application_submitted").count() == 1


def test_the_other_party_confirming_from_ten_threads_at_once_routes_the_application_once():
    """结婚登记: a double click (or two devices) of the groom confirms once, checks once and routes once."""
    make_couple()
    bride = give_identity(email_user("bride@example.com"), ZHAO_LI)
    groom = give_identity(email_user("groom@example.com"), CHEN_HAOYU)
    application = marriage_submitted(bride, make_marriage_item())
    number = str(application.number)

    at_once(10, lambda _index: parties.party_confirm(number=number, user=groom))

    assert Outbox.objects.filter(application=application).count() == 1
    assert ApplicationEvent.objects.filter(application=application, action="party_confirmed").count() == 1
    assert Message.objects.filter(event="party_confirmed").count() == 1
    assert ApplicationParty.objects.filter(application=application, confirmed_at__isnull=False).count() == 2
