"""Every demo workflow routes to real departments: no task falls back for want of a department."""

from __future__ import annotations

import pytest

from approvals import workflow
from approvals.models import Application
from approvals.routing import engine
from demo.catalogue import seed_catalogue
from services.models import DepartmentKind, ServiceItem

pytestmark = pytest.mark.django_db

XIHU = "330106000000"  # 王小明's household: the applicant's county for rules "of the applicant's county"


def test_each_task_of_each_demo_workflow_has_its_department_for_an_applicant_in_xihu():
    seed_catalogue()
    items = list(ServiceItem.objects.published().exclude(workflow={}).select_related("department__region"))
    assert len(items) > 300

    unresolved = []
    for item in items:
        # An unsaved application is enough: resolving reads its data and the item's department.
        application = Application(service=item, department=item.department, data={"address": {"region": XIHU}})
        for stage in workflow.parse(item.workflow).stages:
            for task in stage.tasks:
                _department, note = engine.resolve_department(application, task.department)
                if note:
                    unresolved.append((item.name, stage.key, task.key, task.department))

    assert unresolved == []


def test_each_demo_workflow_passes_the_checks_of_publication():
    seed_catalogue()
    kinds = set(DepartmentKind.values)

    problems = {
        item.name: workflow.problems(item.workflow, known_kinds=kinds)
        for item in ServiceItem.objects.published().exclude(workflow={})
    }

    assert {name: found for name, found in problems.items() if found} == {}
