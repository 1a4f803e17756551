"""The routing engine's rules as pure functions: reading a workflow, checking it, joining a stage, sharing the time."""

from __future__ import annotations

from typing import Any

import pytest

from approvals import workflow
from approvals.workflow import ACCEPT, APPROVE, NOT_ACCEPT, REFUSE, RETURN, SUPPLEMENT
from tests.approvals.builders import STANDARD_WORKFLOW, workflow_stage, workflow_task

pytestmark = pytest.mark.usefixtures("english")

KINDS = {"public_security", "market_regulation", "housing"}
USCC = "11330100000000001X"


# --- parse ------------------------------------------------------------------------------


def test_the_standard_workflow_reads_as_three_single_task_stages_of_its_shares():
    flow = workflow.parse(STANDARD_WORKFLOW)

    assert [stage.key for stage in flow.stages] == ["accept", "review", "decide"]
    assert [[task.name for task in stage.tasks] for stage in flow.stages] == [["受理"], ["审查"], ["决定"]]
    assert [stage.share for stage in flow.stages] == [1, 2, 1]
    assert [stage.quorum for stage in flow.stages] == [None, None, None]
    assert [stage.accepts for stage in flow.stages] == [True, False, False]
    assert flow.stages[0].tasks[0].results == (ACCEPT, NOT_ACCEPT, SUPPLEMENT)
    assert flow.stages[0].tasks[0].department == {"rule": "implementing"}
    assert flow.total_share == 4
    assert (flow.is_instant, flow.is_trust_first) == (False, False)


def test_a_task_left_plain_gets_its_key_as_name_the_implementing_department_agree_or_refuse_and_a_share_of_one():
    flow = workflow.parse({"stages": [{"key": "check", "tasks": [{"key": "look", "share": 0}]}]})

    assert flow.stages[0].tasks == (
        workflow.TaskDef(
            key="look", name="look", department={"rule": "implementing"}, results=(APPROVE, REFUSE), share=1
        ),
    )


@pytest.mark.parametrize(
    ("join", "quorum"),
    [(None, None), ("", None), ("all", None), ("quorum:2", 2), ({"quorum": 2}, 2), ({"quorum": "3"}, 3)],
)
def test_the_join_rule_reads_as_a_quorum_or_all(join, quorum):
    tasks = [{"key": key} for key in ("a", "b", "c")]

    flow = workflow.parse({"stages": [{"key": "joint", "join": join, "tasks": tasks}]})

    assert flow.stages[0].quorum == quorum


def test_an_unknown_join_rule_cannot_be_read():
    with pytest.raises(ValueError, match="unknown join rule 'majority'"):
        workflow.parse({"stages": [{"key": "joint", "join": "majority", "tasks": [{"key": "a"}]}]})


@pytest.mark.parametrize("data", [None, {}, {"stages": []}])
def test_an_item_without_stages_is_handled_in_one_task_of_its_department(data):
    flow = workflow.parse(data)

    assert flow.stages == (workflow.DEFAULT_STAGE,)
    assert flow.stages[0].tasks[0].results == (ACCEPT, NOT_ACCEPT, SUPPLEMENT)
    assert flow.stages[0].accepts is True
    assert (flow.is_instant, flow.is_trust_first, flow.total_share) == (False, False, 1)


def test_instant_and_trust_first_are_read_from_the_workflow():
    assert workflow.parse({**STANDARD_WORKFLOW, "instant": True}).is_instant is True
    assert workflow.parse({**STANDARD_WORKFLOW, "trust_first": True}).is_trust_first is True


# --- problems ---------------------------------------------------------------------------


def problems(data: Any, known_usccs: set[str] | None = None) -> list[str]:
    return workflow.problems(data, known_kinds=KINDS, known_usccs=known_usccs)


def test_the_standard_workflow_and_no_workflow_at_all_have_no_problems():
    assert problems(STANDARD_WORKFLOW) == []
    assert problems(None) == []
    assert problems({}) == []


def test_a_workflow_that_is_not_an_object_with_a_list_of_stages_is_refused():
    assert problems({"stages": "accept"}) == ["The workflow must be an object with a list of stages."]
    assert problems(["accept"]) == ["The workflow must be an object with a list of stages."]


def test_a_workflow_with_an_empty_list_of_stages_is_refused():
    assert problems({"stages": []}) == ["The workflow has no stages."]


def test_a_stage_without_a_key_or_without_tasks_is_named_in_the_problem():
    data = {"stages": [{"tasks": [{"key": "a"}]}, {"key": "joint", "tasks": []}, {"key": "last"}]}

    assert problems(data) == [
        "Stage 1 has no key.",
        "Stage joint has no tasks (an empty group).",
        "Stage last has no tasks (an empty group).",
    ]


def test_an_unknown_join_rule_and_a_quorum_outside_the_group_are_refused():
    tasks = [workflow_task("a"), workflow_task("b"), workflow_task("c")]
    data = {
        "stages": [
            workflow_stage("one", *tasks, join="majority"),
            workflow_stage("two", *tasks, join="quorum:4"),
            workflow_stage("three", *tasks, join={"quorum": 0}),
            workflow_stage("four", *tasks, join="quorum:x"),
        ]
    }

    assert problems(data) == [
        "Stage one has an unknown join rule 'majority'.",
        "Stage two needs a quorum between 1 and 3.",
        "Stage three needs a quorum between 1 and 3.",
        "Stage four has an unknown join rule 'quorum:x'.",
    ]


def test_duplicate_or_missing_task_keys_and_a_task_that_is_not_an_object_are_refused():
    data = {
        "stages": [
            workflow_stage("one", workflow_task("a"), workflow_task("a")),
            {"key": "two", "tasks": [{"name": "无键"}]},
            {"key": "three", "tasks": ["a"]},
        ]
    }

    assert problems(data) == [
        "Stage one needs a distinct key for each task.",
        "Stage two needs a distinct key for each task.",
        "Stage three has a task that is not an object.",
    ]


def test_duplicate_stage_keys_are_refused():
    data = {"stages": [workflow_stage("review", workflow_task("a")), workflow_stage("review", workflow_task("b"))]}

    assert problems(data) == ["Each stage needs a distinct key."]


def test_results_outside_the_six_are_named_with_the_six_allowed():
    data = {"stages": [workflow_stage("review", workflow_task("a", results=["同意", "批准", "驳回"]))]}

    assert problems(data) == [
        "Task review/a has unknown results 批准、驳回; allowed: 同意、不同意、受理、不予受理、补齐补正、退回."
    ]


def test_department_rules_are_checked_rule_kind_level_and_credit_code():
    data = {
        "stages": [
            workflow_stage(
                "joint",
                workflow_task("a", department={"rule": "nearest"}),
                workflow_task("b", department={"rule": "kind", "kind": "police", "level": "county"}),
                workflow_task("c", department={"rule": "kind", "kind": "housing"}),
                workflow_task("d", department={"rule": "kind", "kind": "housing", "level": "town"}),
                workflow_task("e", department={"rule": "fixed", "uscc": "91330100MA0000000X"}),
                workflow_task("f", department={"rule": "fixed", "uscc": USCC}),
                workflow_task("g", department="implementing"),
            )
        ]
    }

    assert problems(data, known_usccs={USCC}) == [
        "Task joint/a names its department by an unknown rule 'nearest'.",
        "Task joint/b names an unknown department kind 'police'.",
        "Task joint/c needs a level: county, city or province.",
        "Task joint/d needs a level: county, city or province.",
        "Task joint/e names a department that does not exist (91330100MA0000000X).",
        "Task joint/g names its department by an unknown rule None.",
    ]


def test_a_fixed_department_is_not_looked_up_when_the_credit_codes_are_not_given():
    data = {"stages": [workflow_stage("one", workflow_task("a", department={"rule": "fixed", "uscc": "X"}))]}

    assert problems(data) == []


@pytest.mark.parametrize("share", [0, -1, "2", 1.5])
def test_a_share_must_be_a_whole_number_of_at_least_one(share):
    data = {"stages": [workflow_stage("one", workflow_task("a", share=share))]}

    assert problems(data) == ["Task one/a needs a share of at least 1."]


def test_a_stage_after_one_whose_task_can_never_agree_is_unreachable():
    data = {
        "stages": [
            workflow_stage("check", workflow_task("a", results=[NOT_ACCEPT, SUPPLEMENT])),
            workflow_stage("review", workflow_task("b")),
        ]
    }

    assert problems(data) == ["Stage review can never be reached: no task of stage check can agree."]


def test_a_quorum_stage_whose_other_tasks_can_reach_the_quorum_does_not_block_the_next_stage():
    data = {
        "stages": [
            workflow_stage(
                "joint",
                workflow_task("a"),
                workflow_task("b"),
                workflow_task("c", results=[RETURN]),
                join="quorum:2",
            ),
            workflow_stage("decide", workflow_task("d")),
        ]
    }

    assert problems(data) == []


# --- stage_outcome ----------------------------------------------------------------------

ALL_OF_THREE = workflow.parse({"stages": [workflow_stage("joint", *(workflow_task(key) for key in "abc"))]}).stages[0]
TWO_OF_THREE = workflow.parse(
    {"stages": [workflow_stage("joint", *(workflow_task(key) for key in "abc"), join="quorum:2")]}
).stages[0]
ONE_OF_THREE = workflow.parse(
    {"stages": [workflow_stage("joint", *(workflow_task(key) for key in "abc"), join={"quorum": 1})]}
).stages[0]


@pytest.mark.parametrize(
    ("results", "outcome"),
    [
        ([None, None, None], workflow.OPEN),
        ([APPROVE, None, None], workflow.OPEN),
        ([APPROVE, APPROVE, None], workflow.OPEN),
        ([APPROVE, APPROVE, APPROVE], workflow.APPROVED),
        ([ACCEPT, APPROVE, ACCEPT], workflow.APPROVED),
        ([REFUSE, None, None], workflow.REJECTED),
        ([APPROVE, APPROVE, REFUSE], workflow.REJECTED),
        ([APPROVE, NOT_ACCEPT, None], workflow.NOT_ACCEPTED),
        ([SUPPLEMENT, None, APPROVE], workflow.SUPPLEMENT_NEEDED),
        ([RETURN, APPROVE, None], workflow.RETURNED),
        # One refusal of acceptance outweighs a 补正, which outweighs a sending back.
        ([RETURN, SUPPLEMENT, NOT_ACCEPT], workflow.NOT_ACCEPTED),
        ([RETURN, SUPPLEMENT, None], workflow.SUPPLEMENT_NEEDED),
        ([REFUSE, RETURN, None], workflow.RETURNED),
    ],
)
def test_an_all_must_agree_stage(results, outcome):
    assert workflow.stage_outcome(ALL_OF_THREE, results) == outcome


@pytest.mark.parametrize(
    ("results", "outcome"),
    [
        ([None, None, None], workflow.OPEN),
        ([APPROVE, None, None], workflow.OPEN),
        ([REFUSE, None, None], workflow.OPEN),
        ([REFUSE, APPROVE, None], workflow.OPEN),
        ([APPROVE, APPROVE, None], workflow.APPROVED),
        ([APPROVE, REFUSE, ACCEPT], workflow.APPROVED),
        ([REFUSE, REFUSE, None], workflow.REJECTED),
        ([REFUSE, APPROVE, REFUSE], workflow.REJECTED),
        ([APPROVE, APPROVE, RETURN], workflow.RETURNED),
        ([APPROVE, SUPPLEMENT, None], workflow.SUPPLEMENT_NEEDED),
        ([NOT_ACCEPT, APPROVE, APPROVE], workflow.NOT_ACCEPTED),
    ],
)
def test_a_two_of_three_stage(results, outcome):
    assert workflow.stage_outcome(TWO_OF_THREE, results) == outcome


@pytest.mark.parametrize(
    ("results", "outcome"),
    [
        ([None, APPROVE, None], workflow.APPROVED),
        ([REFUSE, REFUSE, None], workflow.OPEN),
        ([REFUSE, REFUSE, REFUSE], workflow.REJECTED),
    ],
)
def test_a_one_of_three_stage(results, outcome):
    assert workflow.stage_outcome(ONE_OF_THREE, results) == outcome


# --- task_working_days ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit_days", "days"),
    [(8, [2, 4, 2]), (20, [5, 10, 5]), (10, [2, 5, 2]), (3, [1, 1, 1]), (1, [1, 1, 1])],
)
def test_each_task_gets_its_share_of_the_limit_rounded_down_and_at_least_one_day(limit_days, days):
    flow = workflow.parse(STANDARD_WORKFLOW)

    given = [workflow.task_working_days(flow, stage, stage.tasks[0], limit_days) for stage in flow.stages]

    assert given == days


def test_the_tasks_of_a_parallel_stage_of_equal_shares_each_get_the_stages_time():
    flow = workflow.parse(
        {
            "stages": [
                workflow_stage("joint", workflow_task("a", share=3), workflow_task("b", share=3)),
                workflow_stage("decide", workflow_task("c", share=1)),
            ]
        }
    )
    joint, decide = flow.stages

    assert flow.total_share == 4
    assert [workflow.task_working_days(flow, joint, task, 12) for task in joint.tasks] == [9, 9]
    assert workflow.task_working_days(flow, decide, decide.tasks[0], 12) == 3
