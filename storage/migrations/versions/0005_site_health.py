"""sites: failing streak and idle passes; an index for a site's newest fetched pages

Revision ID: 0005
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0007"
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
    # a site's newest fetched pages (the layout rot window)
    op.create_index("ix_urls_site_fetched", "urls", ["site_id", "last_fetched_at"])


def downgrade() -> None:
    op.drop_index("ix_urls_site_fetched", table_name="urls")
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("idle_passes")
        batch.drop_column("failing_passes")
