"""Re-extraction: derive clean articles again from the archived raw HTML, without re-crawling.

After an extractor or profile change (``EXTRACTOR_VERSION``), every article is re-extracted from
its stored page with the profile valid when the page was fetched, so a site redesign's new profile
version never misreads old pages. A re-extraction is not a publisher's edit: it updates the
article in place and adds no ``article_versions`` row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs.config import Config
from scraper.charset import decode_body
from scraper.errors import VnnewsError
from scraper.extract import EXTRACTOR_VERSION, extract_article, is_article
from scraper.profiles import SiteProfile, load_profiles
from storage import bodies, repo
from storage.models import Article, Page, Site

log = logging.getLogger("vnnews.reextract")
#: failures logged one by one in a run; the rest are counted (an archive whose pages are gone
#: would print a line per article)
MAX_WARNINGS = 20


@dataclass
class ReextractStats:
    seen: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    #: re-extraction made two articles identical: left as they are, reported
    collisions: int = 0


def reextract(
    sessions: sessionmaker[Session],
    config: Config | None,
    *,
    site: str | None = None,
    every: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> ReextractStats:
    """Re-extract articles from an older extractor version (or ``every`` article)."""
    stats = ReextractStats()
    profiles = {s.name: s.profile for s in config.sites} if config else {}
    with sessions() as s:
        stmt = select(Article.id).join(Site, Site.id == Article.site_id).order_by(Article.id)
        if site:
            stmt = stmt.where(Site.name == site)
        if not every:
            stmt = stmt.where(Article.extractor_version != EXTRACTOR_VERSION)
        ids = list(s.scalars(stmt))
    warned = 0

    def say(message: str) -> None:  # the first few failures each, then how many more
        nonlocal warned
        warned += 1
        if warned <= MAX_WARNINGS:
            log.warning("%s", message)

    for article_id in ids:
        stats.seen += 1
        with sessions.begin() as s:
            _one(s, article_id, profiles, stats, say)
        if on_progress:
            on_progress(stats.seen)
    if warned > MAX_WARNINGS:
        log.warning("... and %d more like these (not shown)", warned - MAX_WARNINGS)
    return stats


def _profile(site_profile: str | None, url: str, page: Page) -> SiteProfile | None:
    return load_profiles().resolve(url, name=site_profile, at=page.fetched_at.date())


def _one(
    s: Session,
    article_id: int,
    profiles: dict[str, str | None],
    stats: ReextractStats,
    say: Callable[[str], None],
) -> None:
    art = s.get_one(Article, article_id)
    page = s.get(Page, art.page_id) if art.page_id else None
    # a body stored once for identical fetches is read from the fetch that holds it
    try:
        raw = bodies.page_body(page) if page is not None else b""
    except Exception as exc:  # a damaged frame (zstd): this article fails, not the run
        stats.failed += 1
        say(f"article={art.id} url={art.url}: its archived page cannot be read: {exc}")
        return
    if page is None or not raw:
        stats.failed += 1
        say(f"article={art.id} url={art.url}: no archived page to re-extract from")
        return
    site_name = s.get_one(Site, art.site_id).name
    try:
        html = decode_body(raw, page.headers.get("content-type"))
        fresh = extract_article(
            html, page.final_url, _profile(profiles.get(site_name), page.final_url, page),
            fallback_date=art.published_at or art.first_seen,
        )  # fmt: skip
    except VnnewsError as exc:
        stats.failed += 1
        say(f"article={art.id} url={art.url}: re-extraction failed: {exc}")
        return
    if not is_article(fresh):
        stats.failed += 1
        say(f"article={art.id} url={art.url}: re-extraction found no body; kept the old one")
        return
    fresh.url = art.url
    outcome = repo.replace_extraction(s, art, fresh, extractor_version=EXTRACTOR_VERSION)
    if outcome == "collision":
        stats.collisions += 1
        say(f"article={art.id} url={art.url}: re-extracted text equals another article's; kept")
    elif outcome == "updated":
        stats.updated += 1
    else:
        stats.unchanged += 1
