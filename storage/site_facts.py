"""What the archive knows about each site's health: the facts ``jobs.status`` judges.

``site_facts`` reads them for every site in a handful of grouped queries (no query per site):
the ``sites`` row (failing streak, errors, idle passes), the last article fetched and the last
new one, errors and articles over 24 h and 7 d, the publication times of its newest articles (to
learn its usual gap) and the extraction outcome of its newest article pages (layout rot).
Functions take a Session and never commit, like ``repo``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from storage.models import Article, ArticleUrl, CrawlRun, Site, Url, UrlKind, UrlState

#: publication times kept per site to learn its usual gap between articles
HISTORY = 100
#: newest article pages per site whose extraction is judged for layout rot (the default window)
ROT_WINDOW = 50


@dataclass(frozen=True)
class PageOutcome:
    """One fetched article page, newest first: its URL and what extraction made of it."""

    url: str
    #: False: no article body found (the URL is ``not_article``)
    article: bool
    title: bool = True
    date: bool = True
    extractor: str | None = None


@dataclass(frozen=True)
class SiteFacts:
    name: str
    base_url: str
    added_at: datetime
    last_run_at: datetime | None
    last_success_at: datetime | None
    error_count: int
    last_error: str | None
    failing_passes: int
    idle_passes: int
    articles: int
    urls_due: int
    #: the last time an article page was fetched and stored (or found unchanged)
    last_article_fetch_at: datetime | None
    #: the last time a story new to the archive was stored
    last_new_article_at: datetime | None
    #: failed fetches and sources of the passes started in the last 24 h (not the pages that
    #: answered with no article: ``not_articles_24h``)
    errors_24h: int
    articles_24h: int
    articles_7d: int
    #: publication (else first-seen) times of its newest articles, newest first
    published: tuple[datetime, ...] = ()
    #: its newest fetched article pages, newest first
    pages: tuple[PageOutcome, ...] = field(default=())
    not_articles_24h: int = 0


def _counts(session: Session, stmt: Select[int, int]) -> dict[int, int]:
    return {site_id: int(n or 0) for site_id, n in session.execute(stmt).all()}


def _times(
    session: Session, stmt: Select[int, datetime] | Select[int, datetime | None]
) -> dict[int, datetime]:
    return {site_id: _aware(t) for site_id, t in session.execute(stmt).all() if t is not None}


def site_facts(
    session: Session, now: datetime, *, rot_window: int = ROT_WINDOW,
    names: Collection[str] | None = None,
) -> list[SiteFacts]:  # fmt: skip
    """The facts of every site (or of the sites ``names``), by name."""
    day, week = now - timedelta(days=1), now - timedelta(days=7)
    n = func.count()
    sites_q = select(Site).order_by(Site.name)
    if names is not None:
        sites_q = sites_q.where(Site.name.in_(list(names)))
    site_rows = list(session.scalars(sites_q))
    ids = [s.id for s in site_rows] if names is not None else None

    def only(stmt: Any, column: Any) -> Any:
        return stmt if ids is None else stmt.where(column.in_(ids))

    articles = _counts(
        session, only(select(Article.site_id, n), Article.site_id).group_by(Article.site_id)
    )
    a24 = _counts(
        session,
        only(select(Article.site_id, n), Article.site_id)
        .where(Article.first_seen >= day)
        .group_by(Article.site_id),
    )
    a7 = _counts(
        session,
        only(select(Article.site_id, n), Article.site_id)
        .where(Article.first_seen >= week)
        .group_by(Article.site_id),
    )
    e24 = _counts(
        session,
        only(
            select(CrawlRun.site_id, func.sum(CrawlRun.errors - CrawlRun.not_articles)),
            CrawlRun.site_id,
        )
        .where(CrawlRun.started_at >= day)
        .group_by(CrawlRun.site_id),
    )
    na24 = _counts(
        session,
        only(select(CrawlRun.site_id, func.sum(CrawlRun.not_articles)), CrawlRun.site_id)
        .where(CrawlRun.started_at >= day)
        .group_by(CrawlRun.site_id),
    )
    due = _counts(
        session,
        only(select(Url.site_id, n), Url.site_id)
        .where(Url.kind == UrlKind.ARTICLE, Url.next_due <= now)
        .group_by(Url.site_id),
    )
    new_at = _times(
        session,
        only(select(Article.site_id, func.max(Article.first_seen)), Article.site_id).group_by(
            Article.site_id
        ),
    )
    fetched_at = _times(
        session,
        only(select(Url.site_id, func.max(Url.last_fetched_at)), Url.site_id)
        .where(
            Url.kind == UrlKind.ARTICLE,
            Url.state.in_([UrlState.FETCHED, UrlState.NOT_MODIFIED]),
        )
        .group_by(Url.site_id),
    )
    published = _published(session, now, ids)
    pages = _pages(session, rot_window, ids)
    out = []
    for s in site_rows:
        out.append(
            SiteFacts(
                name=s.name,
                base_url=s.base_url,
                added_at=s.added_at,
                last_run_at=s.last_run_at,
                last_success_at=s.last_success_at,
                error_count=s.error_count,
                last_error=s.last_error,
                failing_passes=s.failing_passes or 0,
                idle_passes=s.idle_passes or 0,
                articles=articles.get(s.id, 0),
                urls_due=due.get(s.id, 0),
                last_article_fetch_at=fetched_at.get(s.id),
                last_new_article_at=new_at.get(s.id),
                errors_24h=e24.get(s.id, 0),
                not_articles_24h=na24.get(s.id, 0),
                articles_24h=a24.get(s.id, 0),
                articles_7d=a7.get(s.id, 0),
                published=tuple(published.get(s.id, ())),
                pages=tuple(pages.get(s.id, ())),
            )
        )
    return out


def _published(session: Session, now: datetime, ids: list[int] | None) -> dict[int, list[datetime]]:
    """The newest ``HISTORY`` publication times per site (first seen when undated; none in the
    future: a wrong year on a page must not teach the site a gap)."""
    when = func.coalesce(Article.published_at, Article.first_seen)
    ranked = (
        select(
            Article.site_id.label("site_id"),
            when.label("at"),
            func.row_number().over(partition_by=Article.site_id, order_by=when.desc()).label("rn"),
        )
        .where(when <= now, *([Article.site_id.in_(ids)] if ids is not None else []))
        .subquery()
    )
    out: dict[int, list[datetime]] = defaultdict(list)
    rows = session.execute(
        select(ranked.c.site_id, ranked.c.at)
        .where(ranked.c.rn <= HISTORY)
        .order_by(ranked.c.site_id, ranked.c.rn)
    )
    for site_id, at in rows:
        out[site_id].append(_aware(at))
    return out


def _pages(session: Session, window: int, ids: list[int] | None) -> dict[int, list[PageOutcome]]:
    """The newest ``window`` fetched article pages per site and what extraction made of them:
    ``not_article`` rows (no body), else the article their URL led to."""
    ranked = (
        select(
            Url.site_id.label("site_id"),
            Url.url.label("url"),
            Url.state.label("state"),
            func.row_number()
            .over(partition_by=Url.site_id, order_by=(Url.last_fetched_at.desc(), Url.id.desc()))
            .label("rn"),
        )
        .where(
            Url.kind == UrlKind.ARTICLE,
            Url.last_fetched_at.is_not(None),
            Url.state.in_([UrlState.FETCHED, UrlState.NOT_MODIFIED, UrlState.NOT_ARTICLE]),
            *([Url.site_id.in_(ids)] if ids is not None else []),
        )
        .subquery()
    )
    rows = session.execute(
        select(
            ranked.c.site_id,
            ranked.c.url,
            ranked.c.state,
            Article.title,
            Article.published_at,
            Article.extractor,
        )
        .outerjoin(ArticleUrl, ArticleUrl.url == ranked.c.url)
        .outerjoin(Article, Article.id == ArticleUrl.article_id)
        .where(ranked.c.rn <= window)
        .order_by(ranked.c.site_id, ranked.c.rn)
    )
    out: dict[int, list[PageOutcome]] = defaultdict(list)
    for site_id, url, state, title, published_at, extractor in rows:
        if state == UrlState.NOT_ARTICLE or extractor is None:
            out[site_id].append(PageOutcome(url, article=False))
        else:
            out[site_id].append(
                PageOutcome(
                    url,
                    article=True,
                    title=bool(title and title.strip()),
                    date=published_at is not None,
                    extractor=extractor,
                )
            )
    return out


def _aware(value: datetime) -> datetime:
    # max()/coalesce() results may skip UTCDateTime's result processing: naive UTC on SQLite
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
