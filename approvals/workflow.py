"""The routing engine's rules: a service's ``workflow`` read as data, and what a stage's results add up to.

A workflow is an ordered list of stages; a stage's tasks run side by side
(并联) and join by its rule: all must agree (the default), or a quorum. Each task
names its department by rule, resolved when the stage opens:

- ``{"rule": "implementing"}``: the item's implementing department;
- ``{"rule": "kind", "kind": "<DepartmentKind>", "level": "county"|"city"|"province"}``:
  the department of that kind in the applicant's county, or the city or province above it;
- ``{"rule": "fixed", "uscc": "<credit code>"}``: one named department.

Results a task may give: 同意, 不同意, 受理, 不予受理, 补齐补正, 退回.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# The results and rules are the catalogue's (a workflow is validated when its version is published).
from services.workflow_rules import (
    ACCEPT,
    APPROVE,
    APPROVING,
    LEVELS,
    NEEDS_OPINION,
    NOT_ACCEPT,
    REFUSE,
    RESULTS,
    RETURN,
    RULES,
    SUPPLEMENT,
    join_quorum,
    problems,
)

__all__ = [
    "ACCEPT",
    "APPROVE",
    "APPROVING",
    "LEVELS",
    "NEEDS_OPINION",
    "NOT_ACCEPT",
    "REFUSE",
    "RESULTS",
    "RETURN",
    "RULES",
    "SUPPLEMENT",
    "StageDef",
    "TaskDef",
    "Workflow",
    "parse",
    "problems",
    "stage_outcome",
    "task_working_days",
    "working_days_before_due",
]

# What a stage's results add up to.
OPEN = "open"
APPROVED = "approved"
REJECTED = "rejected"
NOT_ACCEPTED = "not_accepted"
SUPPLEMENT_NEEDED = "supplement"
RETURNED = "returned"


@dataclass(frozen=True)
class TaskDef:
    key: str
    name: str
    department: dict[str, Any]
    results: tuple[str, ...]
    share: int


@dataclass(frozen=True)
class StageDef:
    key: str
    tasks: tuple[TaskDef, ...]
    quorum: int | None  # None: every task must agree

    @property
    def accepts(self) -> bool:
        """Whether this stage is where the application is accepted (受理) or not."""
        return any(ACCEPT in task.results for task in self.tasks)

    @property
    def share(self) -> int:
        return max((task.share for task in self.tasks), default=1)


@dataclass(frozen=True)
class Workflow:
    stages: tuple[StageDef, ...]
    is_instant: bool
    is_trust_first: bool

    @property
    def total_share(self) -> int:
        return sum(stage.share for stage in self.stages) or 1


# Items published without a workflow are handled in one task by their department.
DEFAULT_STAGE = StageDef(
    key="handle",
    tasks=(
        TaskDef(
            key="handle",
            name="办理",
            department={"rule": "implementing"},
            results=(ACCEPT, NOT_ACCEPT, SUPPLEMENT),
            share=1,
        ),
    ),
    quorum=None,
)


def parse(data: dict[str, Any] | None) -> Workflow:
    """The workflow of a service version (already validated when it was published)."""
    data = data or {}
    stages = []
    for stage in data.get("stages") or []:
        tasks = tuple(
            TaskDef(
                key=str(task["key"]),
                name=str(task.get("name") or task["key"]),
                department=dict(task.get("department") or {"rule": "implementing"}),
                results=tuple(task.get("results") or (APPROVE, REFUSE)),
                share=max(1, int(task.get("share") or 1)),
            )
            for task in stage.get("tasks") or []
        )
        stages.append(StageDef(key=str(stage["key"]), tasks=tasks, quorum=join_quorum(stage.get("join"))))
    if not stages:
        stages = [DEFAULT_STAGE]
    return Workflow(
        stages=tuple(stages),
        is_instant=bool(data.get("instant")),
        is_trust_first=bool(data.get("trust_first")),
    )


def stage_outcome(stage: StageDef, results: list[str | None]) -> str:
    """What the results of a stage's tasks add up to so far (None: a task still open).

    One refusal of acceptance, a request for supplement or a sending back decides
    the stage at once; a refusal rejects an all-must-agree group at once, and a
    quorum group once the quorum can no longer be reached.
    """
    given = [result for result in results if result is not None]
    if NOT_ACCEPT in given:
        return NOT_ACCEPTED
    if SUPPLEMENT in given:
        return SUPPLEMENT_NEEDED
    if RETURN in given:
        return RETURNED
    agreeing = sum(result in APPROVING for result in given)
    still_open = len(results) - len(given)
    needed = stage.quorum if stage.quorum is not None else len(results)
    if agreeing >= needed:
        return APPROVED
    if agreeing + still_open < needed:
        return REJECTED
    return OPEN


def task_working_days(workflow: Workflow, stage: StageDef, task: TaskDef, limit_days: int) -> int:
    """The working days a task gets: its share of the item's time limit (at least one).

    The limit is divided over the stages by each stage's share (its largest task's);
    a task of a parallel group with a smaller share gets less than the group.
    """
    return max(1, math.floor(limit_days * task.share / workflow.total_share))


def working_days_before_due(workflow: Workflow, stage_index: int, task: TaskDef, limit_days: int) -> int:
    """How many working days before the application's due date a task falls due, once the application is accepted.

    The limit is divided over the stages by their shares and counted back from the due
    date: each stage ends where the stages after it begin, the last on the due date, so
    the stages' due dates never go backwards in stage order. A task of a parallel group
    with a smaller share than the group's ends that much earlier in the group's window.
    """
    stage = workflow.stages[stage_index]
    later = sum(following.share for following in workflow.stages[stage_index + 1 :])
    return math.floor(limit_days * (later + stage.share - task.share) / workflow.total_share)
