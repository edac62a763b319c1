"""Re-extraction from the archive: no network, the raw pages are enough."""

from __future__ import annotations

from pathlib import Path

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
