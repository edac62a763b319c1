"""What judging every site costs: ``python bench/status.py [--db URL] [--sites N] [--articles N]``.

Builds a synthetic archive (N sites x M articles, each with its frontier row and URL link, a
tenth of the pages ``not_article``) and times ``jobs.health.check_health``: the queries behind
``vnnews sites``, ``vnnews health``, ``/healthz`` and each ``/metrics`` scrape, and what the
daemon runs after each pass that did something. Default: SQLite in a temporary directory.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from jobs.config import parse_config  # noqa: E402
from jobs.health import check_health  # noqa: E402
from storage.db import make_engine, session_factory, upgrade  # noqa: E402
from storage.models import Article, ArticleUrl, Site, Url  # noqa: E402


def build(db: str, sites: int, articles: int, now: datetime) -> None:
    engine = make_engine(db)
    upgrade(engine)
    with engine.begin() as conn:
        for i in range(sites):
            site_id = conn.execute(
                insert(Site).values(
                    name=f"s{i}", base_url=f"https://s{i}.vn/", added_at=now - timedelta(days=90),
                    last_run_at=now, last_success_at=now, error_count=0, failing_passes=0,
                    idle_passes=0,
                ).returning(Site.id)
            ).scalar_one()  # fmt: skip
            urls, arts, links = [], [], []
            for j in range(articles):
                when = now - timedelta(minutes=37 * j)
                url = f"https://s{i}.vn/bai-{j}.html"
                bad = j % 10 == 0
                urls.append(
                    {"url": url, "site_id": site_id, "kind": "article",
                     "state": "not_article" if bad else "fetched", "priority": 0,
                     "discovered_at": when, "last_fetched_at": when, "attempts": 0,
                     "next_due": when + timedelta(days=7)}
                )  # fmt: skip
                if not bad:
                    arts.append(
                        {"site_id": site_id, "url": url, "title": f"Bài {j}", "text": "x",
                         "published_at": when, "authors": [], "tags": [], "images": [],
                         "content_hash": f"{i:04d}{j:060d}", "first_seen": when,
                         "last_seen": when, "extractor_version": "b",
                         "extractor": f"profile:s{i}@1"}
                    )  # fmt: skip
            conn.execute(insert(Url), urls)
            conn.execute(insert(Article), arts)
            ids = conn.execute(
                Article.__table__.select().with_only_columns(Article.id, Article.url)
                .where(Article.site_id == site_id)
            ).all()  # fmt: skip
            links = [{"article_id": a, "url": u, "relation": "fetched", "first_seen": now}
                     for a, u in ids]  # fmt: skip
            conn.execute(insert(ArticleUrl), links)
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db")
    ap.add_argument("--sites", type=int, default=34)
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or f"sqlite:///{tmp}/bench.db"
        t0 = time.perf_counter()
        build(db, args.sites, args.articles, now)
        print(f"built {args.sites} sites x {args.articles} articles in "
              f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
        blocks = "".join(
            f'[[site]]\nname = "s{i}"\nbase_url = "https://s{i}.vn/"\n'
            f'feeds = ["https://s{i}.vn/rss"]\n'
            for i in range(args.sites)
        )
        config = parse_config(blocks)
        engine = make_engine(db)
        sessions = session_factory(engine)
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            with sessions() as s:
                health = check_health(s, config, now)
            times.append(time.perf_counter() - t)
        engine.dispose()
        statuses = {r.verdict.status for r in health.sites}
        print(f"check_health over {len(health.sites)} sites: median "
              f"{statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
              f"({args.runs} runs); statuses {sorted(statuses)}")  # fmt: skip


if __name__ == "__main__":
    main()
