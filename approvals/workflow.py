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

from django.utils.translation import gettext as _

APPROVE = "同意"
REFUSE = "不同意"
ACCEPT = "受理"
NOT_ACCEPT = "不予受理"
SUPPLEMENT = "补齐补正"
RETURN = "退回"
RESULTS = (APPROVE, REFUSE, ACCEPT, NOT_ACCEPT, SUPPLEMENT, RETURN)
APPROVING = frozenset({APPROVE, ACCEPT})
# Results that need the clerk to say why (the applicant reads it).
NEEDS_OPINION = frozenset({REFUSE, NOT_ACCEPT, SUPPLEMENT, RETURN})
LEVELS = {"province": 2, "city": 3, "county": 4}
RULES = ("implementing", "kind", "fixed")

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


def _quorum(join: Any, task_count: int) -> int | None:
    if isinstance(join, dict) and "quorum" in join:
        return int(join["quorum"])
    if join in (None, "", "all"):
        return None
    if isinstance(join, str) and join.startswith("quorum:"):
        return int(join.removeprefix("quorum:"))
    raise ValueError(f"unknown join rule {join!r}")


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
        stages.append(StageDef(key=str(stage["key"]), tasks=tasks, quorum=_quorum(stage.get("join"), len(tasks))))
    if not stages:
        stages = [DEFAULT_STAGE]
    return Workflow(
        stages=tuple(stages),
        is_instant=bool(data.get("instant")),
        is_trust_first=bool(data.get("trust_first")),
    )


def problems(data: dict[str, Any] | None, *, known_kinds: set[str], known_usccs: set[str] | None = None) -> list[str]:
    """What is wrong with a workflow, in words a catalogue editor understands; empty when it can be published.

    Refused: no stages, a stage without tasks, duplicate keys, an unknown department
    rule, kind or level, results outside the six, a task that cannot move the
    application on (no agreeing result), a quorum larger than its group, and a stage
    that cannot be reached because an earlier stage can only end the application.
    """
    found: list[str] = []
    if not data:
        return found
    if not isinstance(data, dict) or not isinstance(data.get("stages"), list):
        return [_("The workflow must be an object with a list of stages.")]
    stages = data["stages"]
    if not stages:
        return [_("The workflow has no stages.")]
    stage_keys: list[str] = []
    for number, stage in enumerate(stages, 1):
        if not isinstance(stage, dict) or not stage.get("key"):
            found.append(_("Stage %(number)s has no key.") % {"number": number})
            continue
        key = str(stage["key"])
        stage_keys.append(key)
        tasks = stage.get("tasks")
        if not isinstance(tasks, list) or not tasks:
            found.append(_("Stage %(key)s has no tasks (an empty group).") % {"key": key})
            continue
        try:
            quorum = _quorum(stage.get("join"), len(tasks))
        except (TypeError, ValueError):
            join = stage.get("join")
            found.append(_("Stage %(key)s has an unknown join rule %(join)r.") % {"key": key, "join": join})
            quorum = None
        if quorum is not None and not 1 <= quorum <= len(tasks):
            found.append(_("Stage %(key)s needs a quorum between 1 and %(count)s.") % {"key": key, "count": len(tasks)})
        task_keys = [str(task.get("key", "")) for task in tasks if isinstance(task, dict)]
        if len(set(task_keys)) != len(task_keys) or "" in task_keys:
            found.append(_("Stage %(key)s needs a distinct key for each task.") % {"key": key})
        can_move_on = True
        for task in tasks:
            if not isinstance(task, dict):
                found.append(_("Stage %(key)s has a task that is not an object.") % {"key": key})
                continue
            found.extend(_task_problems(key, task, known_kinds=known_kinds, known_usccs=known_usccs))
            if not APPROVING & set(task.get("results") or (APPROVE, REFUSE)):
                can_move_on = False
        if not can_move_on and number < len(stages):
            found.append(
                _("Stage %(next)s can never be reached: no task of stage %(key)s can agree.")
                % {"next": stages[number].get("key"), "key": key}
            )
    if len(set(stage_keys)) != len(stage_keys):
        found.append(_("Each stage needs a distinct key."))
    return found


def _task_problems(
    stage_key: str, task: dict[str, Any], *, known_kinds: set[str], known_usccs: set[str] | None
) -> list[str]:
    found = []
    label = _("Task %(stage)s/%(task)s") % {"stage": stage_key, "task": task.get("key")}
    results = task.get("results") or []
    unknown = [result for result in results if result not in RESULTS]
    if unknown:
        found.append(
            _("%(task)s has unknown results %(results)s; allowed: %(allowed)s.")
            % {"task": label, "results": "、".join(map(str, unknown)), "allowed": "、".join(RESULTS)}
        )
    department = task.get("department") or {"rule": "implementing"}
    rule = department.get("rule") if isinstance(department, dict) else None
    if rule not in RULES:
        found.append(_("%(task)s names its department by an unknown rule %(rule)r.") % {"task": label, "rule": rule})
    elif rule == "kind":
        if department.get("kind") not in known_kinds:
            kind = department.get("kind")
            found.append(_("%(task)s names an unknown department kind %(kind)r.") % {"task": label, "kind": kind})
        if department.get("level") not in LEVELS:
            found.append(_("%(task)s needs a level: county, city or province.") % {"task": label})
    elif rule == "fixed" and known_usccs is not None and department.get("uscc") not in known_usccs:
        uscc = department.get("uscc")
        found.append(_("%(task)s names a department that does not exist (%(uscc)s).") % {"task": label, "uscc": uscc})
    share = task.get("share", 1)
    if not isinstance(share, int) or share < 1:
        found.append(_("%(task)s needs a share of at least 1.") % {"task": label})
    return found


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
    """The working days a task gets: its stage's share of the item's time limit (at least one)."""
    return max(1, math.floor(limit_days * min(task.share, stage.share) / workflow.total_share))
