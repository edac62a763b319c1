"""Archive upkeep: ``vnnews db check``, ``db backup`` and ``db compact``.

- ``check_bodies``, ``check_articles``, ``check_index`` (three steps, each with its own
  progress): every stored body decompresses to its ``body_size`` bytes and ``body_sha256``;
  every article's ``search_text`` is its folded text; (SQLite) the FTS index agrees with
  ``articles``, and ``PRAGMA integrity_check``.
- ``backup``: SQLite's online backup API, page by page, consistent while the daemon writes.
- ``compact``: old ``crawl_runs`` rolled up to one row per site, kind and day (idle passes
  dropped); per-site zstd dictionaries built from recent article pages, and that site's
  bodies recompressed with them (bench/storage.py measures the gain).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session

from scraper.errors import StorageError
from storage import bodies, packing
from storage.db import DatabaseLocationError, check_location
from storage.models import Article, CrawlRun, Page, Url, ZstdDict
from storage.searchkey import search_key

COUNTS = ("discovered", "fetched", "new_articles", "changed_articles", "unchanged",
          "duplicates", "not_modified", "errors", "not_articles")  # fmt: skip
#: what a site's dictionary is built from: its newest HTML pages, this many bytes at most
DICT_PAGES = 4
DICT_BYTES = 512 * 1024
#: a site gets a dictionary once it has this many stored HTML pages
DICT_MIN_PAGES = 2


@dataclass
class CheckReport:
    pages: int = 0
    articles: int = 0
    problems: list[str] = field(default_factory=list)


def check_bodies(session: Session, report: CheckReport, tick: Callable[[], None]) -> None:
    """Each stored body decompresses to its ``body_size`` bytes and ``body_sha256``."""
    ids = session.scalars(select(Page.id).where(Page.body_sha256.is_not(None))).all()
    for page_id in ids:
        page = session.get_one(Page, page_id)
        try:
            body = bodies.page_body(page)
        except Exception as exc:  # a corrupt frame: zstd's own error says what
            report.problems.append(f"page {page.id} ({page.url}): body unreadable: {exc}")
            continue
        if len(body) != page.body_size or hashlib.sha256(body).hexdigest() != page.body_sha256:
            report.problems.append(
                f"page {page.id} ({page.url}): body does not match body_size/body_sha256"
            )
        report.pages += 1
        session.expunge(page)
        tick()


def check_articles(session: Session, report: CheckReport, tick: Callable[[], None]) -> None:
    """Each article's ``search_text`` is its folded title, sapo and text (the slow part on a
    large archive: the text is folded again, about a millisecond an article)."""
    rows = session.execute(
        select(Article.id, Article.title, Article.sapo, Article.text, Article.search_text)
    )
    for article_id, title, sapo, body_text, folded in rows:
        report.articles += 1
        if folded != search_key(title, sapo, body_text):
            report.problems.append(f"article {article_id}: search_text is stale")
        tick()


def check_index(session: Session, report: CheckReport) -> None:
    """The FTS5 index agrees with ``articles``, and ``PRAGMA integrity_check`` (SQLite)."""
    if session.get_bind().dialect.name == "sqlite":
        try:
            session.execute(
                text("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)")
            )
        except Exception as exc:
            # FTS5 says "database disk image is malformed" of any mismatch: say what it means
            said = " ".join(str(getattr(exc, "orig", exc)).split())
            report.problems.append(
                f"articles_fts: the search index does not match articles (FTS5: {said}); "
                "rebuild it with: INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')"
            )
        for (line,) in session.execute(text("PRAGMA integrity_check")):
            if line != "ok":
                report.problems.append(f"integrity_check: {line}")


#: ``backup``'s progress: (pages left, pages in all), after each step of ``BACKUP_STEP`` pages
BackupProgress = Callable[[int, int], None]
BACKUP_STEP = 1024


def backup(engine: Engine, dest: Path, *, progress: BackupProgress | None = None) -> None:
    """Copy a live SQLite archive to ``dest`` with the online backup API.

    The copy is made in a hidden file beside ``dest`` and renamed to it once complete: a backup
    stopped halfway (Ctrl-C, SIGTERM, a full disk) leaves nothing at ``dest`` that looks like
    one. Between steps a Python callback runs, so a pending Ctrl-C or SIGTERM stops the copy at
    once (without one, sqlite3 copies the whole file before Python sees the signal)."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        raise StorageError(
            "db backup copies SQLite archives; for PostgreSQL use pg_dump "
            "(pg_dump -Fc -f vnnews.dump DBNAME)"
        )
    if str(dest) == "-":
        raise DatabaseLocationError("db backup writes a file: '-' (standard output) is not one")
    if dest.exists() or dest.is_symlink():  # a dangling link too: connect would create its target
        # a usage mistake, like a missing directory (exit status 2)
        raise DatabaseLocationError(f"{dest}: already exists; remove it or choose another path")
    check_location(dest)
    part = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    src = sqlite3.connect(f"{Path(engine.url.database).absolute().as_uri()}?mode=ro", uri=True)
    try:
        out = sqlite3.connect(part)
    except sqlite3.Error as exc:
        src.close()
        raise StorageError(f"{dest}: cannot create: {exc}") from None

    def step(_status: int, remaining: int, total: int) -> None:
        if progress is not None:
            progress(remaining, total)

    done = False
    try:
        with out:
            src.backup(out, pages=BACKUP_STEP, progress=step)
        out.close()
        _publish(part, dest)
        done = True
    except sqlite3.Error as exc:
        raise StorageError(f"{dest}: backup failed: {exc}") from None
    finally:
        out.close()
        src.close()
        if not done:
            for leftover in (part, part.with_name(part.name + "-journal")):
                leftover.unlink(missing_ok=True)


def _publish(part: Path, dest: Path) -> None:
    """``part`` becomes ``dest``, never over a file that appeared there meanwhile: a hard link
    fails if ``dest`` exists (the part is then removed by the caller); where the file system
    has no hard links, checked then renamed."""
    appeared = DatabaseLocationError(f"{dest}: appeared during the backup; it was kept")
    try:
        os.link(part, dest)
    except FileExistsError:
        raise appeared from None
    except OSError:  # no hard links here (some network and FAT file systems)
        if dest.exists() or dest.is_symlink():
            raise appeared from None
        os.replace(part, dest)
        return
    part.unlink()


def day_key(run: CrawlRun) -> tuple[int, str, str]:
    return run.site_id, run.kind, run.started_at.strftime("%Y-%m-%d")


def merge_runs(runs: Iterable[CrawlRun]) -> dict[str, Any]:
    """The counts of several runs of one site, kind and day as one row. Pure."""
    runs = list(runs)
    out: dict[str, Any] = {k: sum(getattr(r, k) for r in runs) for k in COUNTS}
    out["started_at"] = min(r.started_at for r in runs)
    finished = [r.finished_at for r in runs if r.finished_at]
    out["finished_at"] = max(finished) if finished else None
    out["error_log"] = [line for r in runs for line in (r.error_log or [])][:20]
    return out


def idle(run: CrawlRun) -> bool:
    return not any(getattr(run, k) for k in COUNTS)


def compact_runs(session: Session, before: datetime) -> tuple[int, int]:
    """Roll up the runs started before ``before``: (rows before, rows after)."""
    old = session.scalars(
        select(CrawlRun).where(CrawlRun.started_at < before).order_by(CrawlRun.id)
    ).all()
    groups: dict[tuple[int, str, str], list[CrawlRun]] = {}
    for run in old:
        groups.setdefault(day_key(run), []).append(run)
    kept = 0
    for runs in groups.values():
        busy = [r for r in runs if not idle(r)]
        for r in runs[1:]:
            session.delete(r)
        if not busy:
            session.delete(runs[0])
            continue
        for key, value in merge_runs(busy).items():
            setattr(runs[0], key, value)
        kept += 1
    session.flush()
    return len(old), kept


def build_dicts(session: Session, now: datetime) -> dict[int, int]:
    """A dictionary for each site with enough article pages and none yet, and that site's
    bodies recompressed with it; returns {site id: pages recompressed}."""
    have = set(session.scalars(select(ZstdDict.site_id)))
    counts = session.execute(
        select(Url.site_id, func.count(Page.id))
        .join(Page, Page.url_id == Url.id)
        .where(Url.kind.in_(("article", "listing")), Page.body_zstd.is_not(None))
        .group_by(Url.site_id)
    ).all()
    done: dict[int, int] = {}
    for site_id, n in counts:
        if site_id in have or n < DICT_MIN_PAGES:
            continue
        newest = session.scalars(
            select(Page)
            .join(Url, Url.id == Page.url_id)
            .where(
                Url.site_id == site_id,
                Url.kind.in_(("article", "listing")),
                Page.body_zstd.is_not(None),
            )
            .order_by(Page.id.desc())
            .limit(DICT_PAGES)
        ).all()
        sample = b"".join(bodies.page_body(p) for p in newest)[:DICT_BYTES]
        row = ZstdDict(site_id=site_id, created_at=now, pages=len(newest), dict=sample)
        session.add(row)
        session.flush()
        done[site_id] = recompress(session, site_id, row)
    return done


def recompress(session: Session, site_id: int, zdict: ZstdDict) -> int:
    ids = session.scalars(
        select(Page.id)
        .join(Url, Url.id == Page.url_id)
        .where(Url.site_id == site_id, Page.body_zstd.is_not(None), Page.body_dict_id.is_(None))
    ).all()
    for page_id in ids:
        page = session.get_one(Page, page_id)
        body = bodies.page_body(page)
        frame = packing.compress(body, zdict.id, zdict.dict)
        if len(frame) < len(page.body_zstd or b""):
            session.execute(
                update(Page)
                .where(Page.id == page_id)
                .values(body_zstd=frame, body_dict_id=zdict.id)
            )
        session.expunge(page)
    return len(ids)
