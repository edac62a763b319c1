"""sites: consecutive failing passes and idle passes, for truthful site status

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.add_column(
            sa.Column("failing_passes", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("idle_passes", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("idle_passes")
        batch.drop_column("failing_passes")
