"""The workbench API: my departments' tasks (cursor-paginated), claim, release, decide, reassign; staff with TOTP."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import actions as account_actions
from accounts.models import StaffMembership, StaffRole, User
from approvals.models import Application, ApplicationEvent, Outbox, WorkflowTask
from approvals.workbench import actions as workbench_actions
from core.api_schema import COMMON_ERRORS
from interaction.models import Message
from tests.approvals.helpers import at_once, route
from tests.approvals.workbench.helpers import (
    first_task,
    mixed_queue,
    queue_of_two_departments,
    queued_task,
    task_in_review,
)
from tests.factories import enroll_totp, staff_member
from tests.helpers import assert_query_count, get_counting_queries

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("upload_root")]

TASKS = "/api/v1/workbench/tasks/"
LIST_QUERIES = 5  # the list's whole cost, whatever the queue's length (pinned below)


def api_of(user: User | None, *, totp: bool = True) -> APIClient:
    client = APIClient()
    if user is not None:
        if totp:
            enroll_totp(user)
        client.force_login(user)
    return client


def action(task: WorkflowTask, name: str) -> str:
    return f"{TASKS}{task.pk}/{name}/"


def every_endpoint(client: APIClient, task: WorkflowTask) -> list[Any]:
    """The list and each action on ``task``, called once, in that order."""
    return [
        client.get(TASKS),
        client.post(action(task, "claim")),
        client.post(action(task, "release")),
        client.post(action(task, "decide"), {"result": "accept"}, format="json"),
        client.post(action(task, "reassign"), {"assignee": None}, format="json"),
    ]


def numbers(body: dict[str, Any]) -> list[str]:
    return [task["application"]["number"] for task in body["results"]]


# --- who may do what --------------------------------------------------------------------


def test_anonymous_callers_are_refused_as_on_every_endpoint(item, citizen):
    task = first_task(citizen, item)
    client = api_of(None)

    for response in every_endpoint(client, task):
        assert response.status_code == 403
        assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("who", "code"),
    [("citizen", "not_staff"), ("clerk_without_totp", "mfa_required")],
)
def test_a_citizen_and_a_clerk_without_totp_are_told_why(request, who, code, item, citizen, clerk):
    task = first_task(citizen, item)
    client = api_of(clerk, totp=False) if who == "clerk_without_totp" else api_of(request.getfixturevalue(who))

    for response in every_endpoint(client, task):
        assert response.status_code == 403
        body = response.json()
        assert (body["code"], body["fields"]) == (code, {})
        assert body["message"]
    task.refresh_from_db()
    assert task.status == WorkflowTask.Status.PENDING


@pytest.mark.parametrize("who", ["other_clerk", "other_supervisor"])
def test_staff_of_another_department_see_nothing_of_the_task(who, item, citizen, other_clerk, other_department):
    task = first_task(citizen, item)
    if who == "other_supervisor":
        other_clerk = staff_member("boss2@example.com", other_department, StaffRole.SUPERVISOR)
    client = api_of(other_clerk)

    listing = client.get(TASKS)
    assert (listing.status_code, listing.json()["results"]) == (200, [])
    for name, body in (
        ("claim", {}),
        ("release", {}),
        ("decide", {"result": "accept"}),
        ("reassign", {"assignee": other_clerk.pk}),
    ):
        response = client.post(action(task, name), body, format="json")
        assert (name, response.status_code, response.json()["code"]) == (name, 404, "not_found")
    task.refresh_from_db()
    assert task.status == WorkflowTask.Status.PENDING


@pytest.mark.parametrize("who", ["clerk", "supervisor"])
def test_a_clerk_and_a_supervisor_of_the_department_list_claim_and_release(request, who, item, citizen):
    user = request.getfixturevalue(who)
    task = first_task(citizen, item)
    client = api_of(user)

    listing = client.get(TASKS).json()
    claimed = client.post(action(task, "claim"))
    released = client.post(action(task, "release"))

    assert numbers(listing) == [task.application.number]
    assert claimed.status_code == 200
    assert (claimed.json()["id"], claimed.json()["status"], claimed.json()["assignee"]["id"]) == (
        task.pk,
        "claimed",
        user.pk,
    )
    assert released.status_code == 200
    assert (released.json()["status"], released.json()["assignee"]) == ("pending", None)


# --- the list ---------------------------------------------------------------------------


def test_the_list_is_the_open_tasks_by_due_time_in_the_contract_s_shape(item, clerk, other_department):
    queue = mixed_queue(item, other_department)

    body = api_of(clerk).get(TASKS).json()

    assert numbers(body) == [task.application.number for task in (queue.overdue, queue.soon, queue.later)]
    first = body["results"][0]
    assert datetime.datetime.fromisoformat(first.pop("due_at")) == queue.overdue.due_at
    assert first == {
        "id": queue.overdue.pk,
        "application": {"id": str(queue.overdue.application.public_id), "number": queue.overdue.application.number},
        "department": {"code": item.department.uscc, "name": item.department.name},
        "name": "受理",
        "status": "claimed",
        "assignee": {"id": queue.colleague.pk, "name": "周敏"},
        "allowed_results": ["accept", "not_accept", "supplement"],
    }
    assert (body["results"][1]["status"], body["results"][1]["assignee"]) == ("pending", None)
    assert (body["next"], body["previous"]) == (None, None)


def test_allowed_results_are_the_codes_of_the_workflow_s_results(item, clerk):
    task = queued_task(item, timezone.now())
    WorkflowTask.objects.filter(pk=task.pk).update(
        allowed_results=["同意", "不同意", "受理", "不予受理", "补齐补正", "退回"]
    )

    body = api_of(clerk).get(TASKS).json()

    assert body["results"][0]["allowed_results"] == [
        "approve",
        "reject",
        "accept",
        "not_accept",
        "supplement",
        "return",
    ]


def test_the_list_filters_by_status_service_and_due_time(item, clerk, other_department):
    now = timezone.now()
    mine, theirs, waiting, elsewhere, other_item = queue_of_two_departments(item, clerk, other_department, now)
    done = queued_task(item, now - datetime.timedelta(days=2), status=WorkflowTask.Status.DONE)
    cancelled = queued_task(other_item, now - datetime.timedelta(days=1), status=WorkflowTask.Status.CANCELLED)
    client = api_of(clerk)
    number = {task: task.application.number for task in (mine, theirs, waiting, elsewhere, done, cancelled)}

    def shown(**params: str) -> list[str]:
        response = client.get(TASKS, params)
        assert response.status_code == 200
        return numbers(response.json())

    assert shown() == [number[theirs], number[waiting], number[mine], number[elsewhere]]
    assert shown(status="pending") == [number[waiting], number[elsewhere]]
    assert shown(status="claimed") == [number[theirs], number[mine]]
    assert shown(status="done") == [number[done]]
    assert shown(status="cancelled") == [number[cancelled]]
    assert shown(service=other_item.implementation_code) == [number[elsewhere]]
    assert shown(service=other_item.implementation_code.lower(), status="cancelled") == [number[cancelled]]
    assert shown(due_before=now.isoformat()) == [number[theirs]]
    assert shown(due_before=(now + datetime.timedelta(days=20)).isoformat()) == [number[theirs], number[waiting]]
    assert shown(due_before=(now + datetime.timedelta(days=20)).isoformat(), status="pending") == [number[waiting]]


def test_a_filter_that_is_not_valid_is_a_400_saying_which(item, clerk):
    response = api_of(clerk).get(TASKS, {"status": "mine", "service": "x" * 32, "due_before": "tomorrow"})

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid"
    assert sorted(body["fields"]) == ["due_before", "service", "status"]


def test_the_list_is_cursor_paginated_on_due_time_and_id(item, clerk):
    due = timezone.now() + datetime.timedelta(days=3)
    # tasks due at the same moment across page boundaries keep their order by id
    tasks = [queued_task(item, due + datetime.timedelta(minutes=minute // 3)) for minute in range(7)]
    expected = [task.application.number for task in sorted(tasks, key=lambda task: (task.due_at, task.pk))]
    client = api_of(clerk)

    first = client.get(TASKS, {"page_size": 3}).json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    back = client.get(second["previous"]).json()

    assert numbers(first) + numbers(second) + numbers(third) == expected
    assert [len(numbers(page)) for page in (first, second, third)] == [3, 3, 1]
    assert (first["previous"], third["next"]) == (None, None)
    assert numbers(back) == expected[:3]


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_costs_the_same_queries_however_long(count, item, clerk):
    now = timezone.now()
    colleagues = [staff_member(f"c{n}@example.com", item.department, StaffRole.CLERK) for n in range(3)]
    for number in range(count):
        queued_task(
            item, now + datetime.timedelta(hours=number - 5), assignee=colleagues[number % 3] if number % 2 else None
        )
    client = api_of(clerk)

    response, queries = get_counting_queries(client, TASKS)

    assert len(response.json()["results"]) == min(count, 20)
    assert_query_count(queries, LIST_QUERIES)


# --- claim at once ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_clerks_claiming_at_once_exactly_one_gets_it(item, department, citizen, clerk):
    task = first_task(citizen, item)
    colleague = staff_member("colleague@example.com", department, StaffRole.CLERK)
    clients = [api_of(clerk), api_of(colleague)]

    def claim(index: int) -> tuple[int, str]:
        response = clients[index].post(action(task, "claim"))
        return response.status_code, response.json().get("code", response.json().get("status"))

    answers = at_once(2, claim)

    assert sorted(answers) == [(200, "claimed"), (409, "task_taken")]
    task.refresh_from_db()
    winner = [clerk, colleague][answers.index((200, "claimed"))]
    assert (task.status, task.assignee) == (WorkflowTask.Status.CLAIMED, winner)


def test_a_task_claimed_by_someone_else_is_a_409_and_release_by_someone_else_too(item, citizen, clerk):
    task = first_task(citizen, item)
    colleague = staff_member("colleague@example.com", item.department, StaffRole.CLERK)
    workbench_actions.task_claim(task_id=task.pk, clerk=colleague)

    claim = api_of(clerk).post(action(task, "claim"))
    release = api_of(clerk).post(action(task, "release"))

    assert (claim.status_code, claim.json()["code"]) == (409, "task_taken")
    assert (release.status_code, release.json()["code"]) == (409, "not_assignee")
    task.refresh_from_db()
    assert task.assignee == colleague


def test_claiming_a_task_one_holds_already_is_a_409_too(item, citizen, clerk):
    task = first_task(citizen, item)
    client = api_of(clerk)
    first = client.post(action(task, "claim"))
    task.refresh_from_db()
    claimed_at = task.claimed_at

    again = client.post(action(task, "claim"), HTTP_ACCEPT_LANGUAGE="en")

    assert first.status_code == 200
    body = again.json()
    assert (again.status_code, body["code"], body["message"]) == (409, "task_taken", "You already hold this task.")
    task.refresh_from_db()
    assert (task.status, task.assignee, task.claimed_at) == (WorkflowTask.Status.CLAIMED, clerk, claimed_at)


# --- decide ---------------------------------------------------------------------------------


def _claim_and_decide(client: APIClient, task: WorkflowTask, **body: Any) -> Any:
    assert client.post(action(task, "claim")).status_code == 200
    return client.post(action(task, "decide"), body, format="json")


def test_decisions_take_an_application_through_its_stages_to_completed(item, citizen, clerk):
    client = api_of(clerk)
    accept = first_task(citizen, item)
    application = accept.application

    accepted = _claim_and_decide(client, accept, result="accept")
    assert (accepted.status_code, accepted.json()["status"], accepted.json()["assignee"]["id"]) == (
        200,
        "done",
        clerk.pk,
    )
    route()
    review = WorkflowTask.objects.get(application=application, stage_key="review")
    _claim_and_decide(client, review, result="approve", opinion="材料齐全。")
    route()
    decide = WorkflowTask.objects.get(application=application, stage_key="decide")
    _claim_and_decide(client, decide, result="approve")
    route()

    application.refresh_from_db()
    assert (application.status, application.outcome) == (Application.Status.COMPLETED, "0")
    assert list(application.tasks.order_by("stage_index").values_list("stage_key", "result", "opinion")) == [
        ("accept", "受理", ""),
        ("review", "同意", "材料齐全。"),
        ("decide", "同意", ""),
    ]
    assert client.get(TASKS).json()["results"] == []


@pytest.mark.parametrize(
    ("code", "result"),
    [("reject", "不同意"), ("return", "退回")],
)
def test_each_code_records_the_workflow_s_result(code, result, item, citizen, clerk):
    review = task_in_review(citizen, item, clerk)

    response = _claim_and_decide(api_of(clerk), review, result=code, opinion="申请事由与证明用途不符。")

    assert response.status_code == 200
    review.refresh_from_db()
    assert (review.status, review.result, review.opinion) == (
        WorkflowTask.Status.DONE,
        result,
        "申请事由与证明用途不符。",
    )


def test_not_accept_records_a_non_acceptance(item, citizen, clerk):
    task = first_task(citizen, item)

    response = _claim_and_decide(api_of(clerk), task, result="not_accept", opinion="不属于本部门职权范围。")
    route()

    assert response.status_code == 200
    task.refresh_from_db()
    assert task.result == "不予受理"
    assert Application.objects.get(pk=task.application_id).status == Application.Status.NOT_ACCEPTED


def test_a_supplement_request_over_the_api_asks_the_applicant(item, citizen, clerk):
    task = first_task(citizen, item)

    response = _claim_and_decide(
        api_of(clerk),
        task,
        result="supplement",
        opinion="请补充申请事由，并重新上传证件照片。",
        supplement={"fields": ["reason"], "materials": ["photo"]},
    )
    route()

    assert response.status_code == 200
    task.refresh_from_db()
    assert (task.status, task.result) == (WorkflowTask.Status.DONE, "补齐补正")
    application = Application.objects.get(pk=task.application_id)
    assert application.status == Application.Status.SUPPLEMENT_REQUESTED
    assert application.supplement_request == {
        "fields": ["reason"],
        "materials": ["photo"],
        "note": "请补充申请事由，并重新上传证件照片。",
    }
    assert Message.objects.filter(recipient=citizen, event="application_supplement_requested").count() == 1


@pytest.mark.parametrize(
    ("supplement", "fields"),
    [
        (None, ["supplement.fields"]),  # nothing asked for
        ({"fields": [], "materials": []}, ["supplement.fields"]),
        ({"fields": ["no_such_field"]}, ["supplement.fields"]),
        ({"materials": ["no_such_material"]}, ["supplement.materials"]),
        ({"fields": "reason"}, ["supplement.fields"]),  # not a list
        ({"fields": ["x" * 61]}, ["supplement.fields.0"]),
    ],
)
def test_a_supplement_request_without_what_is_needed_is_a_400_naming_the_part(supplement, fields, item, citizen, clerk):
    task = first_task(citizen, item)
    body: dict[str, Any] = {"result": "supplement", "opinion": "请补充材料。"}
    if supplement is not None:
        body["supplement"] = supplement

    response = _claim_and_decide(api_of(clerk), task, **body)

    assert (response.status_code, sorted(response.json()["fields"])) == (400, fields)
    task.refresh_from_db()
    assert (task.status, task.application.status) == (WorkflowTask.Status.CLAIMED, Application.Status.SUBMITTED)


def test_a_refusal_without_an_opinion_is_a_400_and_changes_nothing(item, citizen, clerk):
    review = task_in_review(citizen, item, clerk)
    client = api_of(clerk)
    client.post(action(review, "claim"))
    counts = (ApplicationEvent.objects.count(), Outbox.objects.count(), Message.objects.count())

    response = client.post(action(review, "decide"), {"result": "reject", "opinion": " "}, format="json")

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "validation_error"
    assert list(body["fields"]) == ["opinion"]
    review.refresh_from_db()
    assert (review.status, review.result) == (WorkflowTask.Status.CLAIMED, "")
    assert (ApplicationEvent.objects.count(), Outbox.objects.count(), Message.objects.count()) == counts


def test_a_result_outside_the_task_and_an_unknown_one_are_400s(item, citizen, clerk):
    task = first_task(citizen, item)
    client = api_of(clerk)

    not_allowed = _claim_and_decide(client, task, result="approve")
    unknown = client.post(action(task, "decide"), {"result": "maybe"}, format="json")
    national = client.post(action(task, "decide"), {"result": "受理"}, format="json")  # the codes, not the words
    unclaimed = api_of(staff_member("c@example.com", item.department)).post(
        action(task, "decide"), {"result": "accept"}, format="json"
    )

    body = not_allowed.json()
    assert (not_allowed.status_code, body["code"]) == (400, "validation_error")
    assert list(body["fields"]) == ["result"]
    assert "accept, not_accept, supplement" in body["fields"]["result"][0]  # the codes, whatever the language
    assert (unknown.status_code, unknown.json()["code"], list(unknown.json()["fields"])) == (400, "invalid", ["result"])
    assert (national.status_code, list(national.json()["fields"])) == (400, ["result"])
    assert (unclaimed.status_code, unclaimed.json()["code"]) == (409, "not_assignee")
    task.refresh_from_db()
    assert (task.status, task.assignee, task.result) == (WorkflowTask.Status.CLAIMED, clerk, "")


# --- reassign (supervisors) -------------------------------------------------------------------


def test_a_supervisor_reassigns_a_task_and_sends_it_back_to_the_queue(item, citizen, clerk, supervisor):
    task = first_task(citizen, item)
    colleague = staff_member("colleague@example.com", item.department, StaffRole.CLERK)
    workbench_actions.task_claim(task_id=task.pk, clerk=colleague)
    client = api_of(supervisor)

    given = client.post(action(task, "reassign"), {"assignee": clerk.pk}, format="json")
    task.refresh_from_db()
    assert (given.status_code, given.json()["status"], given.json()["assignee"]["id"]) == (200, "claimed", clerk.pk)
    assert (task.status, task.assignee) == (WorkflowTask.Status.CLAIMED, clerk)

    back = client.post(action(task, "reassign"), {"assignee": None}, format="json")
    task.refresh_from_db()
    assert (back.status_code, back.json()["status"], back.json()["assignee"]) == (200, "pending", None)
    assert (task.status, task.assignee) == (WorkflowTask.Status.PENDING, None)


def test_reassign_is_for_supervisors_of_the_task_s_department_only(item, citizen, clerk, supervisor):
    task = first_task(citizen, item)
    workbench_actions.task_claim(task_id=task.pk, clerk=supervisor)

    response = api_of(clerk).post(action(task, "reassign"), {"assignee": clerk.pk}, format="json")

    assert (response.status_code, response.json()["code"]) == (403, "not_supervisor")
    task.refresh_from_db()
    assert task.assignee == supervisor


def test_reassign_to_someone_outside_the_department_or_without_an_assignee_is_a_400(
    item, citizen, supervisor, other_clerk
):
    task = first_task(citizen, item)
    client = api_of(supervisor)

    outsider = client.post(action(task, "reassign"), {"assignee": other_clerk.pk}, format="json")
    unknown = client.post(action(task, "reassign"), {"assignee": 999_999_999}, format="json")
    missing = client.post(action(task, "reassign"), {}, format="json")
    not_an_id = client.post(action(task, "reassign"), {"assignee": "clerk"}, format="json")

    for response in (outsider, unknown, missing, not_an_id):
        assert (response.status_code, list(response.json()["fields"])) == (400, ["assignee"])
    assert (outsider.json()["code"], missing.json()["code"]) == ("validation_error", "invalid")
    task.refresh_from_db()
    assert (task.status, task.assignee) == (WorkflowTask.Status.PENDING, None)


def test_a_task_that_is_done_cannot_be_reassigned(item, citizen, clerk, supervisor):
    task = first_task(citizen, item)
    workbench_actions.task_claim(task_id=task.pk, clerk=clerk)
    workbench_actions.task_decide(task_id=task.pk, clerk=clerk, result="受理")

    response = api_of(supervisor).post(action(task, "reassign"), {"assignee": None}, format="json")

    assert (response.status_code, response.json()["code"]) == (409, "task_done")


# --- leaving a department, the schema ----------------------------------------------------------


def test_a_clerk_removed_from_the_department_gets_404_and_the_task_returns_to_the_queue(
    item, citizen, clerk, other_department
):
    StaffMembership.objects.create(user=clerk, department=other_department, role=StaffRole.CLERK)
    task = first_task(citizen, item)
    client = api_of(clerk)
    client.post(action(task, "claim"))

    account_actions.staff_membership_end(
        membership_id=StaffMembership.objects.get(user=clerk, department=item.department).pk
    )

    decided = client.post(action(task, "decide"), {"result": "accept"}, format="json")
    assert (decided.status_code, decided.json()["code"]) == (404, "not_found")
    assert client.get(TASKS).json()["results"] == []
    task.refresh_from_db()
    assert (task.status, task.assignee) == (WorkflowTask.Status.PENDING, None)


RESULT_CODES = ["approve", "reject", "accept", "not_accept", "supplement", "return"]


def test_the_endpoints_are_in_the_schema_with_the_contract_s_shapes(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]

    def resolve(reference: dict[str, Any]) -> dict[str, Any]:
        if "allOf" in reference:
            reference = reference["allOf"][0]
        return components[reference["$ref"].rsplit("/", 1)[1]]

    paths = schema["paths"]
    assert set(paths["/api/v1/workbench/tasks/"]) == {"get"}
    for name in ("claim", "release", "decide", "reassign"):
        assert set(paths[f"/api/v1/workbench/tasks/{{task_id}}/{name}/"]) == {"post"}
    parameters = {parameter["name"]: parameter for parameter in paths["/api/v1/workbench/tasks/"]["get"]["parameters"]}
    assert set(parameters) == {"status", "service", "due_before", "cursor", "page_size"}
    assert parameters["status"]["schema"]["enum"] == ["pending", "claimed", "done", "cancelled"]
    assert parameters["due_before"]["schema"]["format"] == "date-time"
    decide = paths["/api/v1/workbench/tasks/{task_id}/decide/"]["post"]
    assert set(decide["responses"]) == {"200", "400", "403", "404", "409", *COMMON_ERRORS}
    reassign = paths["/api/v1/workbench/tasks/{task_id}/reassign/"]["post"]
    assert set(reassign["responses"]) == {"200", "400", "403", "404", "409", *COMMON_ERRORS}

    task = components["Task"]["properties"]
    assert set(task) == {"id", "application", "department", "name", "status", "assignee", "due_at", "allowed_results"}
    assert set(resolve(task["application"])["properties"]) == {"id", "number"}
    assert set(resolve(task["department"])["properties"]) == {"code", "name"}
    assert resolve(task["status"])["enum"] == ["pending", "claimed", "done", "cancelled"]
    assert resolve(task["allowed_results"]["items"])["enum"] == RESULT_CODES
    request = components["DecideRequest"]["properties"]
    assert set(request) == {"result", "opinion", "supplement"}
    assert resolve(request["result"])["enum"] == RESULT_CODES
    assert set(resolve(request["supplement"])["properties"]) == {"fields", "materials"}
    assert components["ReassignRequest"]["properties"]["assignee"]["nullable"] is True
    assert components["ReassignRequest"]["required"] == ["assignee"]
