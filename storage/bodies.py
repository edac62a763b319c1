"""Raw bodies in the archive: every HTTP exchange's page row, its body compressed once.

``record_page`` archives a fetch before anything parses it; a body already stored (same
sha256) is not stored again, and ``page_body`` reads it back from whichever row holds it. zstd
frames use the site's dictionary when ``vnnews db compact`` made one. ``storage.packing`` is
the CPU half (``pack_body``), which the crawler runs in its worker pool. Like ``repo``,
functions take a ``Session`` and leave the transaction to the caller.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session, object_session

from storage.dedup import body_sha256
from storage.models import Page, Url, ZstdDict
from storage.packing import PackedBody, compress, decompress
from storage.sql import table

# prebuilt: the crawler runs these once per fetched page
_NEWEST_DICT = (
    select(ZstdDict.id)
    .join(Url, Url.site_id == ZstdDict.site_id)
    .where(Url.id == bindparam("url_id"))
    .order_by(ZstdDict.id.desc())
    .limit(1)
)
_DICT_BYTES = select(ZstdDict.dict).where(ZstdDict.id == bindparam("dict_id"))
_STORED = (
    select(Page.id)
    .where(Page.body_sha256 == bindparam("digest"), Page.body_zstd.is_not(None))
    .limit(1)
)
_INSERT_PAGE = insert(table(Page)).returning(table(Page).c.id)
# both questions a new body asks, in one round trip: is it stored already, and has its site a
# dictionary (the id alone: most sites have none, and its bytes are large)
_STORED_AND_DICT = select(
    _STORED.scalar_subquery().label("stored"), _NEWEST_DICT.scalar_subquery().label("dict_id")
)


class FetchedPage(Protocol):
    """What ``record_page`` stores of a fetch (``scraper.fetch.FetchResult`` is one)."""

    @property
    def url(self) -> str: ...
    @property
    def final_url(self) -> str: ...
    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> dict[str, str]: ...
    @property
    def body(self) -> bytes: ...
    @property
    def fetched_at(self) -> datetime: ...


def record_page(
    session: Session, fetched: FetchedPage, *, url_id: int | None, packed: PackedBody | None = None
) -> int:
    """Archive one HTTP exchange with its raw body (none for a 304) before anything parses it;
    the ``pages`` row's id.

    A body already archived (same sha256: an unchanged feed, a listing polled again) is not
    stored twice: ``body_zstd`` stays NULL and ``page_body`` (or the ``page_bodies`` view)
    reads the earlier copy. ``packed`` is ``pack_body(fetched.body)`` when the caller computed
    it already, off the event loop (used unless the site has a dictionary)."""
    body = fetched.body if fetched.status != 304 else None
    digest = (packed.sha256 if packed else body_sha256(body)) if body else None
    frame: bytes | None = None
    dict_id: int | None = None
    if body:
        conn = session.connection()
        stored, dict_id = conn.execute(_STORED_AND_DICT, {"digest": digest, "url_id": url_id}).one()
        if stored is not None:
            dict_id = None  # the earlier copy's row holds the frame
        elif dict_id is not None:
            dict_bytes = conn.execute(_DICT_BYTES, {"dict_id": dict_id}).scalar_one()
            frame = compress(body, dict_id, dict_bytes)
        else:
            frame = packed.zstd if packed is not None else compress(body)
    return int(
        session.connection().scalar(
            _INSERT_PAGE,
            {
                "url_id": url_id, "url": fetched.url, "final_url": fetched.final_url,
                "status": fetched.status, "headers": fetched.headers,
                "fetched_at": fetched.fetched_at, "body_zstd": frame, "body_dict_id": dict_id,
                "body_size": len(body) if body else 0, "body_sha256": digest,
            },
        )
    )  # fmt: skip


def page_body(page: Page) -> bytes:
    """The raw body of a stored fetch (from the earlier identical one when it was not stored)."""
    session = object_session(page)
    frame, dict_id = page.body_zstd, page.body_dict_id
    if frame is None and page.body_sha256 and session is not None:
        holder = session.execute(
            select(Page.body_zstd, Page.body_dict_id)
            .where(Page.body_sha256 == page.body_sha256, Page.body_zstd.is_not(None))
            .order_by(Page.id)
            .limit(1)
        ).first()
        if holder is not None:
            frame, dict_id = holder[0], holder[1]
    if frame is None:
        return b""
    dict_bytes = None
    if dict_id is not None:
        if session is None:
            raise ValueError(f"page {page.id}: a detached page cannot load its dictionary")
        dict_bytes = session.scalar(select(ZstdDict.dict).where(ZstdDict.id == dict_id))
    return decompress(frame, dict_id, dict_bytes)


# --- articles ----------------------------------------------------------------------------------
