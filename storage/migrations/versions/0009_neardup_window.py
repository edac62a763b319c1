"""articles: an index for the near-duplicate window

Each stored article is compared with the SimHash of every article published (or first seen)
within a week of it: ``coalesce(published_at, first_seen) BETWEEN ...``. Without an index on
that expression the query reads every article row, and ``simhash`` sits after the text, so
SQLite follows each row's overflow pages: the cost grew with the archive's text. The index
holds the expression, the SimHash, the id and the expression's own columns (SQLite reads an
index alone only when it holds every column the query names), so the query reads the index
alone. It replaces 0004's ``ix_articles_published_simhash``, which that expression never used.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_articles_published_simhash", table_name="articles")
    op.create_index(
        "ix_articles_window",
        "articles",
        [sa.text("coalesce(published_at, first_seen)"), "simhash", "id", "published_at", "first_seen"],
    )


def downgrade() -> None:
    op.drop_index("ix_articles_window", table_name="articles")
    op.create_index("ix_articles_published_simhash", "articles", ["published_at", "simhash"])
