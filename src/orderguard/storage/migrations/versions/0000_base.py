"""Base revision: every area's migration branch starts here.

Revision ID: 0000_base
Revises:
"""

from __future__ import annotations

revision = "0000_base"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing: the base only anchors the area branches."""


def downgrade() -> None:
    """Nothing to undo."""
