"""leases: who holds a claimed URL, which worker ran a pass, how it ended, what a worker is

``urls.leased_by`` (→ workers.id) names the process that claimed a URL, so the leases of a dead
worker go back to the queue at once instead of after the lease time; ``crawl_runs.worker_id``
and ``crawl_runs.outcome`` let a run left open by a killed process be closed as
``interrupted``; ``workers.command`` tells the daemon (``run``) from the one-shot commands that
also claim URLs (``crawl``, ``backfill``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _add_reference(table: str, column: str, name: str) -> None:
    """``table.column`` → workers.id, ON DELETE SET NULL. SQLite takes an inline REFERENCES in
    ADD COLUMN (Alembic's add_column would want a table rebuild for the constraint)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} INTEGER "
            f"CONSTRAINT {name} REFERENCES workers (id) ON DELETE SET NULL"
        )
        return
    op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
    op.create_foreign_key(name, table, "workers", [column], ["id"], ondelete="SET NULL")


def upgrade() -> None:
    _add_reference("urls", "leased_by", "fk_urls_leased_by")
    op.create_index("ix_urls_leased_by", "urls", ["leased_by"])
    _add_reference("crawl_runs", "worker_id", "fk_crawl_runs_worker_id")
    op.add_column("crawl_runs", sa.Column("outcome", sa.String(16), nullable=True))
    op.add_column(
        "workers",
        sa.Column("command", sa.String(16), nullable=False, server_default="run"),
    )


def downgrade() -> None:
    with op.batch_alter_table("workers") as batch:
        batch.drop_column("command")
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_column("outcome")
        batch.drop_column("worker_id")
    op.drop_index("ix_urls_leased_by", table_name="urls")
    with op.batch_alter_table("urls") as batch:
        batch.drop_column("leased_by")
