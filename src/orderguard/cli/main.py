"""Entry point: `orderguard --help`. Each command module registers its commands on the app.

Commands import their subsystems lazily so that `orderguard --help` stays fast.
"""

from __future__ import annotations

import typer

from orderguard.cli import audit, cases, controls, db, demo, events, execution, sim, surveillance

app = typer.Typer(
    name="orderguard",
    help="Insider-threat controls, tamper-evident audit and surveillance for order flow.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """orderguard: controls, audit and surveillance for a trading firm's order flow."""
    from orderguard.observability import configure_logging

    configure_logging()


@app.command()
def version() -> None:
    """Print the orderguard version."""
    from orderguard import __version__

    typer.echo(__version__)


for module in (events, sim, surveillance, audit, controls, demo, db, execution, cases):
    module.register(app)


if __name__ == "__main__":
    app()
