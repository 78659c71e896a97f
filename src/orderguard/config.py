"""The firm file (TOML) → validated, frozen settings.

One file describes the firm: its people and their roles, their personal
accounts, client accounts and beneficial owners, approved venues, business
hours, the restricted list and every detector threshold. Unknown keys are
errors (a typo must not silently fall back to a default), and every error
names the key path. Reference: docs/configuration.md.
"""

from __future__ import annotations

import math
import re
import tomllib
from datetime import time
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from orderguard._config_errors import describe
from orderguard.domain import Account, AccountType, Principal, Role, Venue

Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:@-]+$")]


_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,31}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PrincipalConfig(_Strict):
    id: Id
    name: str
    roles: tuple[Role, ...]
    desk: str | None = None
    email: str | None = None
    personal_accounts: tuple[Id, ...] = ()
    # People this principal must never investigate, nor be investigated by (relatives, partners).
    conflicted_with: tuple[Id, ...] = ()

    def to_domain(self) -> Principal:
        return Principal(self.id, self.name, frozenset(self.roles), self.desk, self.email)


class ClientAccountConfig(_Strict):
    id: Id
    owner: str
    beneficial_owner: str | None = None
    desk: str | None = None


class FirmAccountConfig(_Strict):
    id: Id
    owner: str = "firm"
    beneficial_owner: str | None = None
    desk: str | None = None


class VenueConfig(_Strict):
    id: Id
    name: str
    mic: str | None = None
    approved: bool = True


class BusinessHours(_Strict):
    timezone: str = "America/New_York"
    start: time = time(6, 0)
    end: time = time(22, 0)
    weekdays: tuple[Annotated[int, Field(ge=0, le=6)], ...] = (0, 1, 2, 3, 4)  # 0 = Monday

    @field_validator("start", "end", mode="before")
    @classmethod
    def _time_of_day(cls, value: object) -> object:
        # Pydantic would read 6 as 00:00:06; a firm file meaning 06:00 must say so.
        if isinstance(value, int | float):
            raise ValueError(  # noqa: TRY004  Pydantic turns only ValueError into a validation error
                f'a time of day is written "HH:MM" or "HH:MM:SS" (e.g. "06:00"), not {value!r}'
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}; e.g. 'America/New_York'") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class FrontRunningConfig(_Strict):
    enabled: bool = True
    lead_seconds: float = Field(60.0, gt=0)
    size_ratio: float = Field(100.0, gt=0)
    severity: str = "high"
    action: str = "alert"


class CopyTradingConfig(_Strict):
    enabled: bool = True
    lag_seconds: float = Field(300.0, gt=0)
    severity: str = "high"
    action: str = "alert"


class WashTradingConfig(_Strict):
    enabled: bool = True
    window_seconds: float = Field(60.0, gt=0)
    qty_tolerance: float = Field(0.10, ge=0, lt=1)
    severity: str = "high"
    action: str = "alert"


class LargePersonalTradeConfig(_Strict):
    enabled: bool = True
    notional_threshold: float = Field(100_000.0, gt=0)
    severity: str = "medium"
    action: str = "alert_compliance"


class AfterHoursConfig(_Strict):
    enabled: bool = True
    daily_high_count: int = Field(5, ge=1)
    severity: str = "low"
    high_severity: str = "high"
    action: str = "alert_security"


class UnusualRouteConfig(_Strict):
    enabled: bool = True
    severity: str = "high"
    action: str = "block_and_alert"


class QueryVolumeConfig(_Strict):
    enabled: bool = True
    window_seconds: float = Field(3600.0, gt=0)
    floor: int = Field(20, ge=1)
    baseline_multiple: float = Field(3.0, gt=0)
    baseline_days: int = Field(20, ge=1)
    severity: str = "high"
    action: str = "alert_security"


class BulkExportConfig(_Strict):
    enabled: bool = True
    floor: int = Field(1000, ge=1)
    baseline_multiple: float = Field(5.0, gt=0)
    severity: str = "high"
    action: str = "alert_security"


class StructuringConfig(_Strict):
    """Orders split below the four-eyes threshold; the threshold itself is [controls] large_order_notional."""

    enabled: bool = True
    min_orders: int = Field(3, ge=2)
    window_seconds: float = Field(600.0, gt=0)
    severity: str = "high"
    action: str = "alert_compliance"


class DetectorsConfig(_Strict):
    front_running: FrontRunningConfig = FrontRunningConfig()
    copy_trading: CopyTradingConfig = CopyTradingConfig()
    wash_trading: WashTradingConfig = WashTradingConfig()
    large_personal_trade: LargePersonalTradeConfig = LargePersonalTradeConfig()
    after_hours_access: AfterHoursConfig = AfterHoursConfig()
    unusual_route: UnusualRouteConfig = UnusualRouteConfig()
    query_volume: QueryVolumeConfig = QueryVolumeConfig()
    bulk_export: BulkExportConfig = BulkExportConfig()
    structuring: StructuringConfig = StructuringConfig()
    rules_file: Path | None = None


class ControlsConfig(_Strict):
    large_order_notional: float = Field(1_000_000.0, gt=0)
    large_order_quorum: int = Field(1, ge=1)
    approval_ttl_seconds: float = Field(3600.0, gt=0)
    break_glass_ttl_seconds: float = Field(900.0, gt=0)
    preclearance_blackout_seconds: float = Field(86_400.0, ge=0)
    holding_period_days: int = Field(30, ge=0)
    restricted_symbols: tuple[str, ...] = ()
    related_instruments: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    sod_conflicts: tuple[Annotated[tuple[Role, ...], Field(min_length=2)], ...] = ()
    # Reference prices (docs/controls.md): older than this a stored price no longer vouches for a sell,
    # and a sell of more than unpriced_sell_max_qty with no fresh price or firm-file floor needs approval.
    reference_max_age_seconds: float = Field(86_400.0, gt=0)
    unpriced_sell_max_qty: float = Field(100_000.0, ge=0)


class NotificationsConfig(_Strict):
    """Who hears about a new alert: a structured log line, and optionally a signed webhook.

    The webhook's HMAC secret never sits in the firm file: ``webhook_secret_env`` names the
    environment variable that holds it.
    """

    log: bool = True
    webhook_url: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None
    webhook_secret_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None
    webhook_attempts: int = Field(3, ge=1, le=10)
    webhook_timeout_seconds: float = Field(5.0, gt=0, le=60)

    @model_validator(mode="after")
    def _webhook_complete(self) -> NotificationsConfig:
        if (self.webhook_url is None) != (self.webhook_secret_env is None):
            raise ValueError(
                "webhook_url and webhook_secret_env go together: set both (the env var holds the "
                "HMAC secret receivers check) or neither"
            )
        return self


class FirmConfig(_Strict):
    """The whole firm file."""

    firm: str
    business_hours: BusinessHours = BusinessHours()
    principals: tuple[PrincipalConfig, ...]
    client_accounts: tuple[ClientAccountConfig, ...] = ()
    firm_accounts: tuple[FirmAccountConfig, ...] = ()
    venues: tuple[VenueConfig, ...]
    controls: ControlsConfig = ControlsConfig()
    detectors: DetectorsConfig = DetectorsConfig()
    notifications: NotificationsConfig = NotificationsConfig()
    # symbol -> price; the large-order threshold counts a SELL at max(limit, reference), see docs/controls.md
    reference_prices: dict[str, float] = Field(default_factory=dict)

    @field_validator("reference_prices", mode="before")
    @classmethod
    def _reference_prices(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value  # pydantic names the wrong type
        for symbol, price in value.items():
            if not isinstance(symbol, str) or not _SYMBOL.fullmatch(symbol):
                raise ValueError(
                    f"{symbol!r} is not a symbol; use the instrument's ticker as the key "
                    "(letters, digits, . - _ /)"
                )
            is_number = isinstance(price, int | float) and not isinstance(price, bool)
            if not is_number or not math.isfinite(price) or price <= 0:
                raise ValueError(
                    f"{symbol} = {price!r} is not a price; give a positive number, e.g. {symbol} = 187.5"
                )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FirmConfig:
        _unique("principal id", [(f"principals[{i}].id", p.id) for i, p in enumerate(self.principals)])
        # One person, one principal: a second id for the same person could approve the first's requests.
        _unique(
            "principal e-mail",
            [(f"principals[{i}].email", p.email.lower()) for i, p in enumerate(self.principals) if p.email],
        )
        _unique("venue id", [(f"venues[{i}].id", v.id) for i, v in enumerate(self.venues)])
        _unique(
            "account",
            [
                *(
                    (f"principals[{i}].personal_accounts[{j}]", a)
                    for i, p in enumerate(self.principals)
                    for j, a in enumerate(p.personal_accounts)
                ),
                *((f"client_accounts[{i}].id", a.id) for i, a in enumerate(self.client_accounts)),
                *((f"firm_accounts[{i}].id", a.id) for i, a in enumerate(self.firm_accounts)),
            ],
        )
        known = {p.id for p in self.principals}
        for i, p in enumerate(self.principals):
            for j, other in enumerate(p.conflicted_with):
                if other not in known:
                    raise ValueError(
                        f"principals[{i}].conflicted_with[{j}]: {other!r} is not a principal id; "
                        "name someone defined under [[principals]]"
                    )
        # Static separation of duties: a firm file that already holds a conflict must not load.
        from orderguard.policy.sod import conflict_sets, principal_violations

        problems = principal_violations(
            ((f"principals[{i}].roles", p.to_domain()) for i, p in enumerate(self.principals)),
            conflict_sets(self.controls.sod_conflicts),
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # Lookups used by every stage; computed on demand, the model is frozen.
    def principal(self, principal_id: str) -> Principal | None:
        for p in self.principals:
            if p.id == principal_id:
                return p.to_domain()
        return None

    def accounts(self) -> dict[str, Account]:
        result: dict[str, Account] = {}
        for p in self.principals:
            for a in p.personal_accounts:
                result[a] = Account(a, AccountType.PERSONAL, p.id, p.id, p.desk)
        for c in self.client_accounts:
            result[c.id] = Account(c.id, AccountType.CLIENT, c.owner, c.beneficial_owner or c.owner, c.desk)
        for f in self.firm_accounts:
            result[f.id] = Account(f.id, AccountType.FIRM, f.owner, f.beneficial_owner or f.owner, f.desk)
        return result

    def approved_venues(self) -> frozenset[str]:
        return frozenset(v.id for v in self.venues if v.approved)

    def venue_list(self) -> tuple[Venue, ...]:
        return tuple(Venue(v.id, v.name, v.mic) for v in self.venues)


def _unique(what: str, entries: list[tuple[str, str]]) -> None:
    """Refuse a value defined at two key paths, naming both."""
    first_at: dict[str, str] = {}
    for path, value in entries:
        if value in first_at:
            raise ValueError(
                f"{path}: {what} {value!r} is already defined at {first_at[value]}; each must be unique"
            )
        first_at[value] = path


class ConfigError(Exception):
    """A firm file that cannot be used; the message names the file and the key path."""


def parse_config(data: dict[str, object], source: str = "<config>") -> FirmConfig:
    """Validate already-parsed TOML; a ConfigError names ``source`` and each bad key path."""
    try:
        return FirmConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe(exc, source, FirmConfig)) from None


def load_config(path: Path | str) -> FirmConfig:
    """Read and validate a firm file; a ConfigError names the file and each bad key path."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such firm file; pass --config PATH") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: line {line}: not UTF-8 text; save the firm file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the firm file: {exc.strerror}") from None
    return parse_config(data, str(path))
