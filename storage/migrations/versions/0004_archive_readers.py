"""archive for readers: Datasette-visible FTS, UTF-8 JSON, views, near-duplicates, compact bodies

- SQLite: ``articles_fts`` re-declared with ``content="articles"`` (the form Datasette 0.65
  detects, so ``/db/articles`` gets its search box); PostgreSQL: ``articles.search_tsv``, a
  generated tsvector over the folded ``search_text`` with a GIN index (ranked search).
- JSON columns rewritten as readable UTF-8 text (SQLite; jsonb is already text-agnostic).
- ``articles.simhash`` (64-bit, signed) and ``article_links`` (near-duplicates across sites).
- ``zstd_dicts`` and ``pages.body_dict_id``: per-site compression dictionaries; a body already
  stored (same ``body_sha256``) is not stored again (``pages.body_zstd`` NULL, see the
  ``page_bodies`` view).
- Views: ``latest_articles``, ``site_health``, ``duplicates``, ``page_bodies``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

FTS_COLUMNS = "title, sapo, text, search_text"
OLD_TRIGGERS = ("articles_fts_insert", "articles_fts_delete", "articles_fts_update")
TRIGGERS = [
    f"""CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
          INSERT INTO articles_fts(rowid, {FTS_COLUMNS}) VALUES (new.id, new.title, new.sapo, new.text, new.search_text);
        END""",
    f"""CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
          INSERT INTO articles_fts(articles_fts, rowid, {FTS_COLUMNS})
            VALUES ('delete', old.id, old.title, old.sapo, old.text, old.search_text);
        END""",
    # only when indexed text changes: last_seen is updated on every unchanged fetch
    f"""CREATE TRIGGER articles_fts_update AFTER UPDATE OF {FTS_COLUMNS} ON articles BEGIN
          INSERT INTO articles_fts(articles_fts, rowid, {FTS_COLUMNS})
            VALUES ('delete', old.id, old.title, old.sapo, old.text, old.search_text);
          INSERT INTO articles_fts(rowid, {FTS_COLUMNS}) VALUES (new.id, new.title, new.sapo, new.text, new.search_text);
        END""",
]
JSON_COLUMNS = {
    "pages": ("headers",),
    "articles": ("authors", "tags", "images"),
    "crawl_runs": ("error_log",),
}

# GMT+7 text for people; the stored values stay UTC
_SQLITE_LOCAL = "strftime('%Y-%m-%d %H:%M', {col}, '+7 hours')"
_PG_LOCAL = "to_char({col} AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD HH24:MI')"

VIEWS = {
    "latest_articles": """
        CREATE VIEW latest_articles AS
        SELECT s.name AS site, {published} AS published, a.title, a.url, a.id
        FROM articles a JOIN sites s ON s.id = a.site_id
        ORDER BY coalesce(a.published_at, a.first_seen) DESC, a.id DESC""",
    "site_health": """
        CREATE VIEW site_health AS
        SELECT s.name AS site, {last_run} AS last_run, {last_success} AS last_success,
               s.error_count, s.last_error,
               (SELECT count(*) FROM articles a WHERE a.site_id = s.id) AS articles,
               (SELECT {newest} FROM articles a WHERE a.site_id = s.id) AS newest_article,
               (SELECT count(*) FROM urls u WHERE u.site_id = s.id
                  AND u.state IN ('failed', 'parked')) AS urls_failing,
               (SELECT count(*) FROM urls u WHERE u.site_id = s.id AND u.state = 'new') AS urls_new
        FROM sites s ORDER BY s.name""",
    "duplicates": """
        CREATE VIEW duplicates AS
        SELECT l.article_id, sa.name AS site, a.title, a.url,
               l.other_id, sb.name AS other_site, b.title AS other_title, b.url AS other_url,
               l.distance, l.relation
        FROM article_links l
        JOIN articles a ON a.id = l.article_id JOIN sites sa ON sa.id = a.site_id
        JOIN articles b ON b.id = l.other_id JOIN sites sb ON sb.id = b.site_id
        ORDER BY l.id DESC""",
    # the raw body of every fetch, also when an identical earlier body holds the bytes
    "page_bodies": """
        CREATE VIEW page_bodies AS
        SELECT p.id AS page_id, p.url, p.final_url, p.status, p.fetched_at, p.body_size,
               p.body_sha256,
               coalesce(p.body_zstd, (SELECT q.body_zstd FROM pages q
                   WHERE q.body_sha256 = p.body_sha256 AND q.body_zstd IS NOT NULL
                   ORDER BY q.id LIMIT 1)) AS body_zstd,
               coalesce(p.body_dict_id, (SELECT q.body_dict_id FROM pages q
                   WHERE q.body_sha256 = p.body_sha256 AND q.body_zstd IS NOT NULL
                   ORDER BY q.id LIMIT 1)) AS body_dict_id
        FROM pages p""",
}


def _view_sql(name: str, dialect: str) -> str:
    local = _SQLITE_LOCAL if dialect == "sqlite" else _PG_LOCAL
    return VIEWS[name].format(
        published=local.format(col="a.published_at"),
        last_run=local.format(col="s.last_run_at"),
        last_success=local.format(col="s.last_success_at"),
        newest=local.format(col="max(a.published_at)"),
    )


def _rewrite_json(conn: sa.Connection) -> None:
    """ASCII-escaped JSON text (``["H\\u00e0 Thu"]``) → readable UTF-8 (``["Hà Thu"]``)."""
    for table, columns in JSON_COLUMNS.items():
        for column in columns:
            rows = conn.execute(
                sa.text(f"SELECT id, {column} FROM {table} WHERE {column} LIKE '%\\u%'")
            ).all()
            for row_id, value in rows:
                if value is None:
                    continue
                readable = json.dumps(json.loads(value), ensure_ascii=False)
                conn.execute(
                    sa.text(f"UPDATE {table} SET {column} = :v WHERE id = :id"),
                    {"v": readable, "id": row_id},
                )


def _fill_simhash(conn: sa.Connection) -> None:
    from storage.neardup import article_simhash

    rows = conn.execute(sa.text("SELECT id, title, sapo, text FROM articles")).all()
    for row_id, title, sapo, body in rows:
        conn.execute(
            sa.text("UPDATE articles SET simhash = :h WHERE id = :id"),
            {"h": article_simhash(title, sapo, body), "id": row_id},
        )


def upgrade() -> None:
    conn = op.get_bind()
    dialect = conn.dialect.name
    op.create_table(
        "zstd_dicts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("dict", sa.LargeBinary(), nullable=False),
    )
    with op.batch_alter_table("pages") as batch:
        batch.add_column(sa.Column("body_dict_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("simhash", sa.BigInteger(), nullable=True))
    op.create_table(
        "article_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("article_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("other_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("relation", sa.String(16), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("article_id", "other_id", name="uq_article_links_pair"),
    )
    _fill_simhash(conn)
    if dialect == "sqlite":
        _rewrite_json(conn)
        for name in OLD_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS articles_fts")
        # content="articles" in double quotes: the form Datasette's detect_fts looks for
        op.execute(
            f'CREATE VIRTUAL TABLE articles_fts USING fts5({FTS_COLUMNS}, content="articles", '
            "content_rowid=\"id\", tokenize='unicode61 remove_diacritics 2')"
        )
        for ddl in TRIGGERS:
            op.execute(ddl)
        op.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
    else:
        op.execute(
            "ALTER TABLE articles ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS "
            "(to_tsvector('simple', coalesce(search_text, ''))) STORED"
        )
        op.execute("CREATE INDEX ix_articles_search_tsv ON articles USING gin (search_tsv)")
    op.create_index("ix_articles_published_simhash", "articles", ["published_at", "simhash"])
    for name in VIEWS:
        op.execute(_view_sql(name, dialect))


def downgrade() -> None:
    conn = op.get_bind()
    for name in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.drop_index("ix_articles_published_simhash", table_name="articles")
    if conn.dialect.name == "sqlite":
        for name in OLD_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS articles_fts")
        op.execute(
            f"CREATE VIRTUAL TABLE articles_fts USING fts5({FTS_COLUMNS}, content='articles', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        for ddl in TRIGGERS:
            op.execute(ddl)
        op.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
    else:
        op.execute("DROP INDEX IF EXISTS ix_articles_search_tsv")
        op.execute("ALTER TABLE articles DROP COLUMN IF EXISTS search_tsv")
    op.drop_table("article_links")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("simhash")
    with op.batch_alter_table("pages") as batch:
        batch.drop_column("body_dict_id")
    op.drop_table("zstd_dicts")
