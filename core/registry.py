"""How a lower app calls up into a higher one without importing it.

The lower app declares a hook (many handlers, each called in turn) or a slot (one
provider, with a default until someone fills it) at module level; the higher app
connects to it in its ``AppConfig.ready``. The import arrow then runs from the
higher app down to the lower one, as the import contracts in ``make lint`` demand.

    # accounts/actions.py (lower)
    staff_left_hooks: Hooks[[int, int]] = Hooks("accounts.staff_left")
    ...
    staff_left_hooks.call(user.pk, department.pk)

    # approvals/apps.py (higher)
    staff_left_hooks.connect(workbench_actions.staff_left_department)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Hooks(Generic[P]):
    """Handlers called in the order they were connected; connecting the same handler twice keeps one."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: list[Callable[P, Any]] = []

    def connect(self, handler: Callable[P, Any]) -> Callable[P, Any]:
        """Add ``handler`` (usable as a decorator); return it."""
        if handler not in self._handlers:
            self._handlers.append(handler)
        return handler

    def disconnect(self, handler: Callable[P, Any]) -> None:
        if handler in self._handlers:
            self._handlers.remove(handler)

    def call(self, *args: P.args, **kwargs: P.kwargs) -> list[Any]:
        """Call every handler with the same arguments, in the caller's transaction; return their answers."""
        return [handler(*args, **kwargs) for handler in list(self._handlers)]

    def __iter__(self) -> Iterator[Callable[P, Any]]:
        return iter(list(self._handlers))

    def __len__(self) -> int:
        return len(self._handlers)

    def __repr__(self) -> str:
        return f"<Hooks {self.name}: {len(self._handlers)} connected>"


class Slot(Generic[T]):
    """One provider of something a lower app needs, with the default it uses until a higher app fills it."""

    def __init__(self, name: str, default: T) -> None:
        self.name = name
        self._default = default
        self._provider: T = default

    def fill(self, provider: T) -> T:
        """Make ``provider`` the one this slot gives; a second, different provider is refused."""
        if self._provider is not self._default and self._provider is not provider:
            raise ValueError(f"{self.name} is already filled by {self._provider!r}")
        self._provider = provider
        return provider

    def get(self) -> T:
        return self._provider

    def __repr__(self) -> str:
        return f"<Slot {self.name}: {self._provider!r}>"
