"""crawl_runs.not_articles: the pages of a pass that answered with no article in them

They are counted in ``errors`` too (as before), so ``vnnews sites`` and ``vnnews health`` can
show the errors of the last 24 hours without them: a listing page in a feed is no error of the
site. Older rows keep 0 here (their not-articles stay among their errors).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch_op:
        batch_op.add_column(
            sa.Column("not_articles", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch_op:
        batch_op.drop_column("not_articles")
