"""The options ``demo`` and ``serve`` share (where the connector, desk keys and surveillance run)
and ``serve``'s OIDC options."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal

import typer

if TYPE_CHECKING:
    from orderguard.auth.oidc import OidcVerifier


class Connector(StrEnum):
    """Where the execution connector runs."""

    PROCESS = "process"  # its own process: its key never enters the API process
    IN_PROCESS = "in-process"


class Surveillance(StrEnum):
    """Whether the server watches its stored events as they arrive."""

    LIVE = "live"  # the stream engine observes every stored event (wiring.live_surveillance)
    OFF = "off"  # batch only: POST /api/v1/surveillance/scan


SurveillanceOption = Annotated[
    Surveillance,
    typer.Option(
        "--surveillance",
        help="live: every stored event goes through the detectors as it arrives (state kept in the "
        "database across restarts); off: only batch scans (one at start-up, then on request)",
    ),
]
ConnectorOption = Annotated[
    Connector,
    typer.Option("--connector", help="run the execution connector in its own process or in this one"),
]


class DeskKeys(StrEnum):
    """Where the desk's custodial order-signing keys live."""

    SIGNER = "signer"  # the desk signer process: they never enter the API process
    IN_PROCESS = "in-process"


# In-process until a quiet-machine run shows the signer costs < ~10% on the sealed order path
# (docs/benchmarks.md, "Session 4: keys out of the API process"); flipping it is this one line.
DEFAULT_DESK_KEYS = DeskKeys.IN_PROCESS
DeskKeysOption = Annotated[
    DeskKeys,
    typer.Option(
        "--desk-keys",
        envvar="ORDERGUARD_DESK_KEYS",
        help="signer: the desk's order-signing keys live in their own process, which signs only "
        "what its own policy allows (safer; costs CPU per order); in-process: this process holds "
        "them (docs/execution.md, 'Desk signer process')",
    ),
]


def connector_mode(value: Connector) -> Literal["in-process", "process"]:
    return "in-process" if value is Connector.IN_PROCESS else "process"


def desk_keys_mode(value: DeskKeys) -> Literal["in-process", "signer"]:
    return "signer" if value is DeskKeys.SIGNER else "in-process"


def oidc_verifier(issuer: str | None, audience: str | None, jwks: str | None) -> OidcVerifier | None:
    """The OIDC verifier the three ``serve`` options describe: all of them, or none (no OIDC)."""
    from orderguard.auth.oidc import OidcVerifier

    if issuer and audience and jwks:
        return OidcVerifier(issuer, audience, jwks)
    given = {"--oidc-issuer": issuer, "--oidc-audience": audience, "--oidc-jwks": jwks}
    if not any(given.values()):
        return None
    missing = ", ".join(name for name, value in given.items() if not value)
    raise typer.BadParameter(f"OIDC needs all three options; add {missing}")
