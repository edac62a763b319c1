"""Re-extraction from the archive: no network, the raw pages are enough."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.db import make_engine, session_factory
from storage.models import Article, ArticleVersion
from tests.support.mirror import MirrorSite
from tests.support.paths import golden
from tests.support.sites import VNX_PAGES, invoke, write_config


def test_reextract_rebuilds_articles_from_raw_pages_offline(
    db_url: str, mirrors: tuple[MirrorSite, MirrorSite], tmp_path: Path
) -> None:
    vnx, tt = mirrors
    config = write_config(tmp_path / "sources.toml", vnx, tt)
    assert invoke(db_url, config, "db", "upgrade")[0] == 0
    assert invoke(db_url, config, "crawl")[0] == 0
    engine = make_engine(db_url)
    sessions = session_factory(engine)
    target = vnx.url(VNX_PAGES[0][0])
    with sessions.begin() as s:
        art = s.scalars(select(Article).where(Article.url == target)).one()
        good_text, good_hash = art.text, art.content_hash
        # what an older, worse extractor left behind
        art.text = good_text + "\n\nTổng số điểm của bài viết là: 0 trong 0 đánh giá"
        art.content_hash = "0" * 64
        art.extractor_version = "0.0.1"
        versions = len(s.scalars(select(ArticleVersion)).all())
    requests_before = len(vnx.server.seen) + len(tt.server.seen)

    code, out = invoke(db_url, config, "reextract")
    assert code == 0, out
    assert "re-extracted 1: updated 1, unchanged 0, failed 0, collisions 0" in out
    with sessions() as s:
        art = s.scalars(select(Article).where(Article.url == target)).one()
        assert art.text == good_text and art.content_hash == good_hash
        assert art.title == golden(VNX_PAGES[0][1])["title"]
        assert len(s.scalars(select(ArticleVersion)).all()) == versions  # not a publisher's edit
    code, out = invoke(db_url, config, "reextract", "--all", "--site", "vnx")
    assert code == 0 and "re-extracted 2: updated 0, unchanged 2" in out
    engine.dispose()
    assert (
        len(vnx.server.seen) + len(tt.server.seen) == requests_before
    )  # nothing fetched: the archive is enough


def test_reextract_of_pages_stored_once_and_of_nothing_at_all(
    db_url: str,
    mirrors: tuple[MirrorSite, MirrorSite],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A page whose body was stored once, for an identical earlier fetch (``body_zstd`` NULL,
    the bytes read from that fetch), re-extracts: it was counted as failed, "no archived page".
    A run where every article fails (their pages gone) says so and exits 1, after the first 20
    lines and a count (it printed a line per article and exited 0)."""
    from sqlalchemy import update

    from storage.models import Page

    vnx, tt = mirrors
    config = write_config(tmp_path / "sources.toml", vnx, tt)
    assert invoke(db_url, config, "crawl")[0] == 0
    engine = make_engine(db_url)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        art = s.scalars(select(Article).where(Article.url == vnx.url(VNX_PAGES[0][0]))).one()
        page = s.get(Page, art.page_id)
        assert page is not None and page.body_zstd is not None
        # the same bytes fetched again later, stored once: the article points at that fetch
        twin = Page(
            url_id=page.url_id, url=page.url, final_url=page.final_url, status=200,
            headers=page.headers, fetched_at=page.fetched_at, body_zstd=None,
            body_dict_id=None, body_size=page.body_size, body_sha256=page.body_sha256,
        )  # fmt: skip
        s.add(twin)
        s.flush()
        art.page_id = twin.id
    code, out = invoke(db_url, config, "reextract", "--all", "--site", "vnx")
    assert code == 0 and "failed 0" in out, out

    with sessions.begin() as s:
        s.execute(update(Article).values(page_id=None))
        count = len(s.scalars(select(Article.id)).all())
    monkeypatch.setattr("jobs.reextract.MAX_WARNINGS", 2)  # the archive holds 3 articles
    with caplog.at_level(logging.WARNING, logger="vnnews.reextract"):
        code, out = invoke(db_url, config, "reextract", "--all")
    engine.dispose()
    assert code == 1 and f"no article could be re-extracted ({count} failed)" in out
    said = [r.getMessage() for r in caplog.records if r.name == "vnnews.reextract"]
    assert count == 3 and sum("no archived page to re-extract from" in m for m in said) == 2
    assert said[-1] == "... and 1 more like these (not shown)"
