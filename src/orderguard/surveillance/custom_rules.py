"""Custom rules: a YAML file of per-event CEL conditions written by compliance staff.

Each rule has an ``id``, the event ``kinds`` it reads, a CEL ``condition``
over the event's fields (plus a few derived values, see ``event_context``),
a ``severity``, an ``action`` and a ``mode``: ``alert`` raises alerts,
``shadow`` evaluates and logs matches without alerting anyone (a new rule's
trial run). Both engines build the same context for an event and evaluate
the same compiled program, so they agree by construction. A condition that
fails on an event (e.g. a field that kind does not carry) does not match it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cel
import numpy as np
import yaml

from orderguard.domain.alerts import Alert
from orderguard.domain.events import V1_FIELDS, Event, EventKind
from orderguard.surveillance.columns import KIND_CODE, DayColumns
from orderguard.surveillance.context import NS_PER_SECOND, SurveillanceContext

DEFAULT_RULES = Path(__file__).with_name("rules") / "default.yaml"
_RULE_KEYS = {"id", "description", "kinds", "condition", "severity", "action", "mode"}


class RuleFileError(ValueError):
    """A rule file that cannot be used; the message names the file, the rule and the key."""


def event_context(record: dict[str, Any], ctx: SurveillanceContext) -> dict[str, Any]:
    """The CEL variables for one event: its v1 fields (absent ones null) and derived values.

    Derived: ``notional`` (qty x price), ``local_hour`` and ``local_time`` in the
    firm's zone, ``business_hours`` (bool) and ``venue_approved`` (bool; true
    when the event names no venue).
    """
    values = {name: record.get(name) for name in V1_FIELDS}
    ts: int = record["ts"]
    day, tod = ctx.local_day_and_time(ts)
    seconds = tod // NS_PER_SECOND
    qty, price, venue = values["qty"], values["price"], values["venue"]
    values.update(
        ts_ns=ts,
        notional=qty * price if qty is not None and price is not None else None,
        local_hour=seconds // 3600,
        local_time=f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}",
        business_hours=ctx.in_business_hours(day, tod),
        venue_approved=venue is None or venue in ctx.approved_venues,
    )
    values["ts"] = None  # the int form is ts_ns; RFC 3339 text is not needed in conditions
    return values


@dataclass
class CustomRule:
    id: str
    description: str
    kinds: frozenset[EventKind]
    condition: str
    severity: str
    action: str
    mode: str
    program: Any = field(repr=False, default=None)
    shadow_matches: list[str] = field(default_factory=list, repr=False)
    errors: int = 0

    def matches(self, record: dict[str, Any], ctx: SurveillanceContext) -> bool:
        try:
            return self.program.execute(event_context(record, ctx)) is True
        except (TypeError, RuntimeError, ValueError):
            self.errors += 1
            return False

    def _verdict(self, record: dict[str, Any], ctx: SurveillanceContext) -> Alert | None:
        if not self.matches(record, ctx):
            return None
        if self.mode == "shadow":
            self.shadow_matches.append(str(record["event_id"]))
            return None
        return Alert.build(
            rule=self.id,
            severity=self.severity,
            actor=str(record["actor"]),
            symbol=record.get("symbol"),
            ts=int(record["ts"]),
            event_ids=(str(record["event_id"]),),
            explanation=f"{record['actor']}: {self.description} ({record['kind']} {record['event_id']}).",
            action=self.action,
        )

    def observe(self, event: Event, ctx: SurveillanceContext) -> list[Alert]:
        if event.kind not in self.kinds:
            return []
        found = self._verdict(event_record(event), ctx)
        return [found] if found else []

    def scan(self, day: DayColumns, ctx: SurveillanceContext) -> list[Alert]:
        mask = np.isin(day.kind, [KIND_CODE[k] for k in self.kinds])
        pos = np.flatnonzero(mask)
        names = [n for n in V1_FIELDS if n != "ts" and n in day.table.column_names]
        rows = day.table.take(pos).select(names).to_pylist()
        alerts = []
        for p, row in zip(pos.tolist(), rows, strict=True):
            row["ts"] = int(day.ts[p])
            found = self._verdict(row, ctx)
            if found:
                alerts.append(found)
        return alerts


def event_record(event: Event) -> dict[str, Any]:
    """An Event's v1 fields as plain values (ts as int ns), the same shape batch rows take."""
    record: dict[str, Any] = {name: getattr(event, name) for name in V1_FIELDS}
    record["kind"] = event.kind.value
    record["side"] = event.side.value if event.side is not None else None
    return record


def _fail(source: str, where: str, message: str) -> RuleFileError:
    return RuleFileError(f"{source}: {where}: {message}")


def load_rules(path: Path | str) -> tuple[CustomRule, ...]:
    """Read and compile a rule file; every error names the file, the rule index/id and the key."""
    path = Path(path)
    source = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RuleFileError(f"{source}: no such rule file; pass an existing YAML file") from None
    except yaml.YAMLError as exc:
        raise RuleFileError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise _fail(source, "(top level)", "expected a mapping with a 'rules:' list")
    rules: list[CustomRule] = []
    seen: set[str] = set()
    for i, item in enumerate(data["rules"]):
        rules.append(_parse_rule(source, i, item, seen))
    return tuple(rules)


def _parse_rule(source: str, i: int, item: object, seen: set[str]) -> CustomRule:
    where = f"rules[{i}]"
    if not isinstance(item, dict):
        raise _fail(source, where, "expected a mapping with id, kinds, condition, severity, action")
    unknown = set(item) - _RULE_KEYS
    if unknown:
        raise _fail(
            source, f"{where}.{sorted(unknown)[0]}", f"unknown key; allowed: {', '.join(sorted(_RULE_KEYS))}"
        )
    for key in ("id", "kinds", "condition", "severity", "action"):
        if key not in item:
            raise _fail(source, f"{where}.{key}", "missing; every rule needs it")
    rule_id = str(item["id"])
    where = f"rules[{i}] ({rule_id})"
    if rule_id in seen:
        raise _fail(source, f"{where}.id", "defined twice; rule ids must be unique")
    seen.add(rule_id)
    kinds_raw = item["kinds"]
    if not isinstance(kinds_raw, list) or not kinds_raw:
        raise _fail(source, f"{where}.kinds", "expected a non-empty list of event kinds")
    try:
        kinds = frozenset(EventKind(str(k)) for k in kinds_raw)
    except ValueError:
        known = ", ".join(k.value for k in EventKind)
        raise _fail(source, f"{where}.kinds", f"unknown event kind in {kinds_raw}; known: {known}") from None
    mode = str(item.get("mode", "alert"))
    if mode not in ("alert", "shadow"):
        raise _fail(source, f"{where}.mode", f"{mode!r} is not 'alert' or 'shadow'")
    try:
        program = cel.compile(str(item["condition"]))
    except ValueError as exc:
        raise _fail(source, f"{where}.condition", f"not a valid CEL expression: {exc}") from None
    return CustomRule(
        id=rule_id,
        description=str(item.get("description", rule_id)),
        kinds=kinds,
        condition=str(item["condition"]),
        severity=str(item["severity"]),
        action=str(item["action"]),
        mode=mode,
        program=program,
    )
