"""search: articles.search_text (folded), and on SQLite the FTS5 index articles_fts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FTS_COLUMNS = "title, sapo, text, search_text"
TRIGGERS = {
    "articles_fts_insert": f"""
        CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
          INSERT INTO articles_fts(rowid, {FTS_COLUMNS}) VALUES (new.id, new.title, new.sapo, new.text, new.search_text);
        END""",
    "articles_fts_delete": f"""
        CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
          INSERT INTO articles_fts(articles_fts, rowid, {FTS_COLUMNS})
            VALUES ('delete', old.id, old.title, old.sapo, old.text, old.search_text);
        END""",
    # only when indexed text changes: last_seen is updated on every unchanged fetch
    "articles_fts_update": f"""
        CREATE TRIGGER articles_fts_update AFTER UPDATE OF {FTS_COLUMNS} ON articles BEGIN
          INSERT INTO articles_fts(articles_fts, rowid, {FTS_COLUMNS})
            VALUES ('delete', old.id, old.title, old.sapo, old.text, old.search_text);
          INSERT INTO articles_fts(rowid, {FTS_COLUMNS}) VALUES (new.id, new.title, new.sapo, new.text, new.search_text);
        END""",
}


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=True))
    # fill the new column for articles archived before this revision
    from storage.search import search_key

    conn = op.get_bind()
    articles = sa.table("articles", sa.column("id"), sa.column("title"), sa.column("sapo"),
                        sa.column("text"), sa.column("search_text"))
    rows = conn.execute(sa.select(articles.c.id, articles.c.title, articles.c.sapo, articles.c.text)).all()
    for row in rows:
        conn.execute(articles.update().where(articles.c.id == row.id)
                     .values(search_text=search_key(row.title, row.sapo, row.text)))
    if conn.dialect.name == "sqlite":
        op.execute(
            f"CREATE VIRTUAL TABLE articles_fts USING fts5({FTS_COLUMNS}, content='articles', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        for ddl in TRIGGERS.values():
            op.execute(ddl)
        op.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS articles_fts")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("search_text")
