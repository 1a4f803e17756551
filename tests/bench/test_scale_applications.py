"""python -m bench.scale --applications: synthetic 办件 with numbers, timelines and tasks, topped up (PostgreSQL)."""

from __future__ import annotations

import datetime
import io
import re
from types import SimpleNamespace

import pytest
from django.db import connection
from django.utils import timezone

from approvals import outbox
from approvals.applications import selectors
from approvals.models import Application, ApplicationEvent, Outbox, WorkflowTask
from approvals.routing import deadlines, engine
from bench.scale import plans, writer
from bench.scale.command import main
from bench.scale.plans import SCALE, ApplicationPlan, ApplicationSet, query_password
from services.models import ServiceItem

pytestmark = pytest.mark.django_db

Status = Application.Status
OPEN_STATUSES = {Status.SUBMITTED, Status.ACCEPTED, Status.IN_REVIEW}


def seed(applications: int) -> str:
    output = io.StringIO()
    main(
        ["--items", "40", "--applications", str(applications), "--application-batch-size", "25", "--allow-production"],
        stdout=output,
    )
    return output.getvalue()


def test_each_application_has_a_number_a_timeline_and_the_tasks_of_its_status():
    seed(60)

    applications = list(SCALE.applications().select_related("service").order_by("public_id"))
    assert len(applications) == 60
    assert [SCALE.serial_of(application.public_id) for application in applications] == list(range(60))
    today = timezone.localdate()
    for application in applications:
        number = application.number or ""
        assert re.fullmatch(rf"{application.implementation_code}(\d{{8}})(\d{{4}})", number), number
        assert datetime.datetime.strptime(number[31:39], "%Y%m%d").date() < today
        assert application.implementation_code == application.service.implementation_code
        assert application.department_id == application.service.department_id
        assert application.service.status == ServiceItem.Status.PUBLISHED
        events = list(application.events.order_by("at", "pk").values_list("action", flat=True))
        assert events[0] == ApplicationEvent.Action.SUBMITTED
        tasks = list(application.tasks.all())
        open_tasks = [task for task in tasks if task.status == WorkflowTask.Status.PENDING]
        if application.status in OPEN_STATUSES:
            assert open_tasks, application.status
            assert {task.stage_index for task in open_tasks} == {application.stage_index}
            assert application.outcome == ""
        else:
            assert open_tasks == []
        if application.status == Status.COMPLETED:
            assert application.outcome == "0"
            assert application.completed_at is not None
            assert events[-1] == ApplicationEvent.Action.COMPLETED
    statuses = {application.status for application in applications}
    assert Status.COMPLETED in statuses
    assert statuses & OPEN_STATUSES
    assert len({application.number for application in applications}) == 60
    connection.check_constraints()


def test_the_query_password_of_a_synthetic_application_tracks_it():
    seed(10)

    for application in SCALE.applications():
        password = query_password(SCALE.serial_of(application.public_id))
        assert selectors.tracked_application(number=application.number or "", password=password) == application


def test_seeding_leaves_nothing_for_the_sweeps_to_do():
    seed(60)

    assert deadlines.acceptance_sweep() == 0
    assert deadlines.deadlines_sweep() == (0, 0)
    assert outbox.outbox_sweep() == 0


def test_running_again_adds_only_what_is_missing():
    seed(30)
    first = set(SCALE.applications().values_list("public_id", "number"))

    again = seed(30)
    assert "Synthetic applications: 0 added, 30 already there, 30 in all" in again
    more = seed(45)

    assert "Synthetic applications: 15 added, 30 already there, 45 in all" in more
    after = set(SCALE.applications().values_list("public_id", "number"))
    assert first < after
    assert sorted(SCALE.serial_of(public_id) for public_id, _number in after) == list(range(45))


def test_a_just_submitted_synthetic_application_is_routed_like_a_real_one():
    seed(0)
    item = next(item for item in plans.applicable_items(synthetic_only=True) if len(item.stages) > 1)
    applicant_id, applicant_name = plans.ensure_applicants(1)[0]
    fresh = ApplicationSet(code=99, first_day=datetime.date(2020, 1, 1), per_day=10)
    plan = ApplicationPlan(
        serial=0, item=item, applicant_id=applicant_id, applicant_name=applicant_name, fate=plans.UNROUTED
    )

    written = writer.write_applications([plan], application_set=fresh)
    assert engine.outbox_process(outbox_id=written.outbox_ids[0]) == 1

    application = Application.objects.get(pk=written.application_ids[0])
    assert application.number == f"{item.implementation_code}202001010001"
    assert application.stage_index == 0
    assert list(application.tasks.values_list("stage_key", "status", "department_id")) == [
        (item.stages[0].key, WorkflowTask.Status.PENDING, item.department_id)
    ]
    assert Outbox.objects.get(pk=written.outbox_ids[0]).processed_at is not None


def test_it_refuses_to_seed_applications_on_sqlite(monkeypatch):
    monkeypatch.setattr(writer, "connection", SimpleNamespace(vendor="sqlite"))

    with pytest.raises(SystemExit, match="PostgreSQL"):
        main(["--applications", "10", "--allow-production"], stdout=io.StringIO())
    assert not SCALE.applications().exists()


def test_numbers_that_would_reach_today_are_refused():
    seed(0)
    item = plans.applicable_items(synthetic_only=True)[0]
    applicant_id, applicant_name = plans.ensure_applicants(1)[0]
    late = ApplicationSet(code=98, first_day=timezone.localdate(), per_day=1)
    plan = ApplicationPlan(
        serial=0, item=item, applicant_id=applicant_id, applicant_name=applicant_name, fate=plans.COMPLETED
    )

    with pytest.raises(plans.ScaleError, match="before today"):
        writer.write_applications([plan], application_set=late)
    assert not late.applications().exists()
