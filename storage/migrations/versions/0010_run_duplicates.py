"""crawl_runs.duplicates: pages whose article another URL or site holds already

A pass counted them as ``unchanged``; ``vnnews crawl`` now says ``duplicates`` (a copy of
another site's article is not an unchanged page). Older rows keep theirs in ``unchanged``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch_op:
        batch_op.add_column(sa.Column("duplicates", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch_op:
        batch_op.drop_column("duplicates")
