"""The catalogue's workflow format: what a service version's ``workflow`` may say, checked when it is published.

Routing (approvals.workflow) reads the same data at run time; the format and its
checks live here, with the catalogue, so that a version that routing could not
follow is never published.
"""

from __future__ import annotations

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


def join_quorum(join: Any) -> int | None:
    """The quorum of a stage's join rule: None when every task must agree ("all", the default)."""
    if isinstance(join, dict) and "quorum" in join:
        return int(join["quorum"])
    if join in (None, "", "all"):
        return None
    if isinstance(join, str) and join.startswith("quorum:"):
        return int(join.removeprefix("quorum:"))
    raise ValueError(f"unknown join rule {join!r}")


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
            quorum = join_quorum(stage.get("join"))
        except (TypeError, ValueError):
            join = stage.get("join")
            found.append(_("Stage %(key)s has an unknown join rule %(join)r.") % {"key": key, "join": join})
            quorum = None
        if quorum is not None and not 1 <= quorum <= len(tasks):
            found.append(_("Stage %(key)s needs a quorum between 1 and %(count)s.") % {"key": key, "count": len(tasks)})
        task_keys = [str(task.get("key", "")) for task in tasks if isinstance(task, dict)]
        if len(set(task_keys)) != len(task_keys) or "" in task_keys:
            found.append(_("Stage %(key)s needs a distinct key for each task.") % {"key": key})
        agreeing = 0
        for task in tasks:
            if not isinstance(task, dict):
                found.append(_("Stage %(key)s has a task that is not an object.") % {"key": key})
                continue
            found.extend(_task_problems(key, task, known_kinds=known_kinds, known_usccs=known_usccs))
            if APPROVING & set(task.get("results") or (APPROVE, REFUSE)):
                agreeing += 1
        # The stage moves on when its quorum (all tasks by default) can agree.
        needed = quorum if quorum is not None and 1 <= quorum <= len(tasks) else len(tasks)
        if agreeing < needed and number < len(stages):
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
