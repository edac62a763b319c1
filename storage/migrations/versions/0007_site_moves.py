"""site_moves and article_events: sites that moved domain, and fetches that kept an article

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_moves",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "site_id", sa.Integer(), sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("from_host", sa.String(255), nullable=False),
        sa.Column("to_host", sa.String(255), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evidence_url", sa.Text(), nullable=False),
        sa.Column("source_kind", sa.String(16), nullable=False),
        sa.UniqueConstraint("site_id", "from_host", "to_host"),
    )
    op.create_index("ix_site_moves_site_id", "site_moves", ["site_id"])
    op.create_table(
        "article_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "article_id",
            sa.Integer(),
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "page_id", sa.Integer(), sa.ForeignKey("pages.id", ondelete="SET NULL"), nullable=True
        ),
    )
    op.create_index("ix_article_events_article_id", "article_events", ["article_id"])


def downgrade() -> None:
    op.drop_index("ix_article_events_article_id", table_name="article_events")
    op.drop_table("article_events")
    op.drop_index("ix_site_moves_site_id", table_name="site_moves")
    op.drop_table("site_moves")
