"""Telling a user something, for the apps below the inbox (accounts).

The inbox is ``interaction``'s, and interaction sits above accounts (it may use accounts, not the
other way round). An app below it tells a user through ``notify`` here; interaction fills the
slot at start-up with its own ``notify``. Apps above interaction call ``interaction.actions.notify``.
"""

from __future__ import annotations

from typing import Any, Protocol

from core.registry import Slot


class Notifier(Protocol):
    def __call__(self, user: Any, event: str, context: dict[str, Any]) -> Any: ...


def _no_inbox(user: Any, event: str, context: dict[str, Any]) -> Any:
    raise RuntimeError("no inbox is installed: the interaction app fills core.notices.inbox at start-up")


inbox: Slot[Notifier] = Slot("core.notices.inbox", _no_inbox)


def notify(user: Any, event: str, context: dict[str, Any]) -> Any:
    """Store a message of ``event`` for ``user`` in the caller's transaction (see ``interaction.actions.notify``)."""
    return inbox.get()(user, event, context)
