"""How an application's events read on its timelines: one entry per event, each opinion once.

A department's result (``task_done``) names its task and result, so that the
results of a stage's several departments, or of its several stages, are told
apart instead of repeating "a department gave its result". A 补正 is recorded
twice by one decision, as the request (with what to provide) and as the task's
result; its note is shown with the request only.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from approvals.models import ApplicationEvent

Event = ApplicationEvent.Action


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a timeline, as approvals/_timeline.html shows it."""

    at: datetime.datetime
    text: str
    department: str
    note: str = ""


def event_text(action: str, details: dict[str, Any]) -> str:
    """What happened, in the active language; a department's result with its task and result."""
    label = str(Event(action).label)
    if action == Event.TASK_DONE and details.get("task") and details.get("result"):
        return _("%(label)s: %(task)s (%(result)s)") % {
            "label": label,
            "task": details["task"],
            "result": details["result"],
        }
    return label


def repeats_note(event: ApplicationEvent, previous: ApplicationEvent | None) -> bool:
    """Whether the event's note only repeats the one just before it (a 补正 and the result that asked it)."""
    return (
        previous is not None
        and event.action == Event.TASK_DONE
        and previous.action == Event.SUPPLEMENT_REQUESTED
        and previous.department_id == event.department_id
        and previous.note.strip() == event.note.strip()
    )


def entries(events: list[ApplicationEvent]) -> list[TimelineEntry]:
    """The timeline of events read with their departments (``selectors.timeline``), notes included, oldest first."""
    found = []
    previous = None
    for event in events:
        found.append(
            TimelineEntry(
                at=event.at,
                text=event_text(event.action, event.details),
                department=event.department.name if event.department is not None else "",
                note="" if repeats_note(event, previous) else event.note,
            )
        )
        previous = event
    return found
