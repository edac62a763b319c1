"""A Datasette plugin for vnnews archives (loaded by ``vnnews ui`` with --plugins-dir).

``/-/vnnews/raw/PAGE_ID`` shows a page's raw HTML, decompressed (with its site's dictionary),
as plain text: readable, never rendered. ``page_id`` cells link to it. The SQL function
``vnnews_match(words)`` folds a query as ``vnnews search`` does (case, tone marks, đ) into an
FTS5 MATCH expression on ``articles_fts``: the "Search articles" query uses it.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup

from scraper.charset import decode_body
from storage.packing import decompress
from storage.search import fts5_match

_SQL = "select body_zstd, body_dict_id, url from page_bodies where page_id = ?"


async def raw_page(datasette: Any, request: Any) -> Response:
    page_id = int(request.url_vars["page_id"])
    db = datasette.get_database()
    row = (await db.execute(_SQL, [page_id])).first()
    if row is None or row["body_zstd"] is None:
        return Response.text(f"no stored body for page {page_id}", status=404)
    dict_bytes = None
    if row["body_dict_id"] is not None:
        found = await db.execute("select dict from zstd_dicts where id = ?", [row["body_dict_id"]])
        dict_bytes = found.first()["dict"]
    body = decompress(row["body_zstd"], row["body_dict_id"], dict_bytes)
    headers = (await db.execute("select headers from pages where id = ?", [page_id])).first()
    ctype = None
    if headers and headers["headers"]:
        import json

        ctype = json.loads(headers["headers"]).get("content-type")
    return Response.text(decode_body(body, ctype))


@hookimpl  # type: ignore[untyped-decorator]
def prepare_connection(conn: Any) -> None:
    conn.create_function("vnnews_match", 1, _match, deterministic=True)


def _match(words: object) -> str:
    return fts5_match(words if isinstance(words, str) else "")


@hookimpl  # type: ignore[untyped-decorator]
def register_routes() -> list[tuple[str, Any]]:
    return [(r"^/-/vnnews/raw/(?P<page_id>\d+)$", raw_page)]


@hookimpl  # type: ignore[untyped-decorator]
def render_cell(value: Any, column: str, table: str | None) -> Markup | None:
    if column == "page_id" and isinstance(value, int):
        return Markup(f'{value} <a href="/-/vnnews/raw/{value}">raw HTML</a>')
    return None
