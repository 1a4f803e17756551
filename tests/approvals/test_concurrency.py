"""Submissions at the same moment, on PostgreSQL: numbers stay unique and a double submit counts once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from approvals.applications import submission
from approvals.models import Application, ApplicationEvent, NumberSequence, Outbox
from interaction.models import Message
from services.models import Department, ServiceItem
from tests.approvals.builders import make_applicable_item, ready_draft
from tests.datahub.builders import make_wang_household

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def upload_root(settings: Any, tmp_path: Path) -> Path:
    settings.UPLOAD_ROOT = tmp_path / "uploads"
    settings.UPLOAD_SCANNER = "approvals.uploads.NoScanner"
    return settings.UPLOAD_ROOT


@pytest.fixture
def item(department: Department) -> ServiceItem:
    make_wang_household()
    return make_applicable_item(department=department)


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(0)`` … ``work(count - 1)`` in as many threads, released together; each closes its connection."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as error:  # collected and reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a submission hung"
    assert errors == []
    return results


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
