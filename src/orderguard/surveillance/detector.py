"""The shape every detector has: one rule, a streaming ``observe`` and a vectorised ``scan``.

A detector is a small class in the pySigma style: class-level ``rule``
(stable id), ``description``, ``kinds`` (the event kinds it reads) and
default ``severity``/``action`` (the firm file overrides them). It answers
the same question two ways, and the two answers must be identical sets:

* ``observe(event)`` sees events one at a time in total order (ts, seq) and
  returns the alerts that became decidable with this event (through the
  per-kind methods of ``stream_handlers``, which the engine calls). All mutable
  state lives in ``self.state`` (builtins, dicts, deques only) and is bounded
  per key: whatever can no longer contribute to an alert is dropped as the
  stream's clock passes it. ``state`` is what a snapshot saves.
* ``scan(day)`` sees a whole day of columns at once and returns every alert,
  with cost that grows with events plus matches, never events x events.

The precise semantics of each rule (edges, ties) are in docs/surveillance.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Final

from orderguard.domain.alerts import Alert
from orderguard.domain.events import Event, EventKind
from orderguard.surveillance.columns import DayColumns
from orderguard.surveillance.context import SurveillanceContext

# A stream handler returns the alerts one event makes decidable: usually NO_ALERTS, never allocated.
StreamHandler = Callable[[Event], Sequence[Alert]]
NO_ALERTS: Final[tuple[Alert, ...]] = ()


class Detector(ABC):
    """Base class of the built-in detectors."""

    rule: ClassVar[str]
    description: ClassVar[str]
    kinds: ClassVar[frozenset[EventKind]]

    def __init__(self, ctx: SurveillanceContext) -> None:
        self.ctx = ctx
        settings = getattr(ctx.detectors, self.rule)
        self.severity: str = settings.severity
        self.action: str = settings.action
        self.state = self.initial_state()
        self._stream_handlers: dict[EventKind, StreamHandler] | None = None

    def initial_state(self) -> dict[str, Any]:
        """The empty streaming state (override when the detector keeps any)."""
        return {}

    @property
    def state(self) -> dict[str, Any]:
        """The streaming state, builtins only: what a snapshot saves."""
        return self._state

    @state.setter
    def state(self, value: dict[str, Any]) -> None:
        self._state = value
        self.bind_state()

    def bind_state(self) -> None:  # noqa: B027 - a hook: only detectors with shortcuts override it
        """Point the stream handlers' shortcuts into ``self.state`` (after a build or a restore)."""

    @abstractmethod
    def stream_handlers(self) -> dict[EventKind, StreamHandler]:
        """Per kind this detector reads: the method the stream engine gives each event of that kind.

        One method per kind, so that no event pays for checks that belong to
        other kinds; the engine builds its dispatch table from these once.
        """

    def observe(self, event: Event) -> list[Alert]:
        """Alerts decidable with this event; events arrive in (ts, seq) order."""
        if self._stream_handlers is None:
            self._stream_handlers = self.stream_handlers()
        handler = self._stream_handlers.get(event.kind)
        return [] if handler is None else list(handler(event))

    @abstractmethod
    def scan(self, day: DayColumns) -> list[Alert]:
        """Every alert over a day of events."""

    def alert(
        self,
        *,
        actor: str,
        symbol: str | None,
        ts: int,
        event_ids: tuple[str, ...],
        explanation: str,
        severity: str | None = None,
        scope: str = "",
    ) -> Alert:
        """An alert of this detector's rule with its configured severity and action."""
        return Alert.build(
            rule=self.rule,
            severity=severity or self.severity,
            actor=actor,
            symbol=symbol,
            ts=ts,
            event_ids=event_ids,
            explanation=explanation,
            action=self.action,
            scope=scope,
        )
