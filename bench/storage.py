"""Storage benchmark: ``python bench/storage.py`` (or ``make bench-storage``).

1. zstd levels over the real pages in tests/fixtures/real: stored/raw ratio and ms per page
   (the hot path compresses every fetched body once).
2. Bytes stored per article against its raw HTML, through the real code (``record_page``,
   ``extract_article``, ``store_article``) into a fresh SQLite archive: the raw bodies alone,
   and the bodies plus the article rows, before and after ``vnnews db compact`` (per-site
   dictionaries); plus a leave-one-out estimate (each page compressed with a dictionary of
   its site's *other* pages, the case of a page fetched after the dictionary was built).
3. ``--export N``: peak RSS of ``vnnews export`` (jsonl, parquet) over N synthetic articles,
   each in a fresh process: constant memory shows as the same peak for 10k and 100k.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import zstandard  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from scraper.extract import EXTRACTOR_VERSION, extract_article  # noqa: E402
from scraper.fetch.client import FetchResult  # noqa: E402
from storage import bodies, frontier, packing, repo  # noqa: E402
from storage.db import make_engine, session_factory, upgrade  # noqa: E402
from storage.maintenance import build_dicts  # noqa: E402
from storage.models import Article, Page, Url  # noqa: E402

REAL = ROOT / "tests" / "fixtures" / "real"
NOW = datetime(2026, 3, 7, tzinfo=UTC)


def pages() -> dict[str, list[tuple[str, bytes]]]:
    by_site: dict[str, list[tuple[str, bytes]]] = {}
    for path in sorted(REAL.glob("*/*.html")):
        by_site.setdefault(path.parent.name, []).append((path.name, path.read_bytes()))
    return by_site


def levels(raws: list[bytes]) -> None:
    raw = sum(map(len, raws))
    print(f"zstd levels over {len(raws)} real pages ({raw / 1e6:.1f} MB raw)")
    print("  level  stored/raw  ms/page")
    for level in (1, 3, 6, 10, 15, 19):
        c = zstandard.ZstdCompressor(level=level)
        t = time.perf_counter()
        out = sum(len(c.compress(b)) for b in raws)
        ms = (time.perf_counter() - t) / len(raws) * 1000
        print(f"  {level:>5}  {out / raw:>10.3f}  {ms:>7.2f}")


def leave_one_out(by_site: dict[str, list[tuple[str, bytes]]]) -> float:
    raw = stored = 0
    key = -1  # a dictionary id of its own for each (the compressors are cached by id)
    for items in by_site.values():
        for i, (_, body) in enumerate(items):
            others = b"".join(b for j, (_, b) in enumerate(items) if j != i)[: 512 * 1024]
            raw += len(body)
            key -= 1
            stored += len(bodies.compress(body, key, others) if others else bodies.compress(body))
    return stored / raw


def archive(by_site: dict[str, list[tuple[str, bytes]]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        sessions = session_factory(engine)
        raw = articles = 0
        with sessions.begin() as s:
            for site, items in by_site.items():
                site_id = repo.ensure_site(s, site, f"https://{site}/", NOW).id
                for name, body in items:
                    url = f"https://{site}/{name}"
                    kind = "listing" if "list" in name or "home" in name else "article"
                    frontier.enqueue(s, site_id, [frontier.NewUrl(url)], now=NOW, kind=kind)
                    url_id = s.scalars(select(Url.id).where(Url.url == url)).one()
                    fetched = FetchResult(url=url, final_url=url, status=200, redirects=(),
                                          elapsed=0.0, headers={"content-type": "text/html"},
                                          body=body, fetched_at=NOW)  # fmt: skip
                    page_id = bodies.record_page(s, fetched, url_id=url_id)
                    raw += len(body)
                    if kind == "article":
                        art = extract_article(body, url)
                        repo.store_article(s, site_id=site_id, article=art, urls={url: "fetched"},
                                           page_id=page_id, now=NOW,
                                           extractor_version=EXTRACTOR_VERSION)  # fmt: skip
                        articles += 1

        def sizes() -> tuple[int, int]:
            with sessions() as s:
                stored = int(s.scalar(select(func.sum(func.length(Page.body_zstd)))) or 0)
                cols = (Article.title, Article.sapo, Article.text, Article.search_text)
                rows = sum(int(s.scalar(select(func.sum(func.length(c)))) or 0) for c in cols)
            return stored, rows

        stored, rows = sizes()
        with sessions.begin() as s:
            build_dicts(s, NOW)
        bodies_d, _ = sizes()
        engine.dispose()
    print(f"\narchive of {sum(map(len, by_site.values()))} real pages, {articles} articles, "
          f"{raw / 1e6:.2f} MB raw HTML (level {packing.ZSTD_LEVEL})")  # fmt: skip
    print(f"  raw bodies, zstd                      {stored / raw:6.1%} of raw")
    print(f"  raw bodies + article rows             {(stored + rows) / raw:6.1%} of raw")
    print(f"  after db compact (site dictionaries)  {(bodies_d + rows) / raw:6.1%} of raw "
          f"(bodies alone {bodies_d / raw:.1%})")  # fmt: skip
    print(f"  leave-one-out dictionary, bodies      {leave_one_out(by_site):6.1%} of raw")


def export_rss(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/synthetic.db"
        subprocess.run([sys.executable, __file__, "--fill", db, str(n)], check=True)
        for fmt in ("jsonl", "parquet"):
            out = Path(tmp) / f"out.{fmt}"
            code = (
                "import resource,sys; from jobs.cli import main; sys.argv=['vnnews','--db',"
                f"{db!r},'export','--format',{fmt!r},'--out',{str(out)!r}]\n"
                "try: main()\nexcept SystemExit: pass\n"
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)"
            )
            t = time.perf_counter()
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  cwd=ROOT, check=True)  # fmt: skip
            took = time.perf_counter() - t
            print(f"  export {fmt:<8} {n:>7} articles: peak RSS {proc.stdout.strip()} MB, "
                  f"{took:.1f} s, {out.stat().st_size / 1e6:.1f} MB")  # fmt: skip


def fill(db: str, n: int) -> None:
    """N synthetic articles of ~3 KB of Vietnamese text, inserted in bulk."""
    engine = make_engine(db)
    upgrade(engine)
    text = "Tỉnh Lào Cai tổ chức hội nghị tổng kết công tác năm, Đà Nẵng đón khách. " * 40
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "insert into sites(name, base_url, added_at, error_count) "
            "values ('synth', 'https://s.vn/', '2026-01-01 00:00:00', 0)"
        )
        conn.exec_driver_sql(
            "insert into articles(site_id, url, title, text, authors, tags, images, content_hash,"
            " first_seen, last_seen, extractor_version, extractor, published_at) values "
            "(1, ?, ?, ?, '[\"Hà Thu\"]', '[]', '[]', ?, '2026-01-01 00:00:00',"
            " '2026-01-01 00:00:00', 'x', 'generic', '2026-01-01 00:00:00')",
            [(f"https://s.vn/{i}.html", f"Bài {i}", f"{i} {text}", f"{i:064d}") for i in range(n)],
        )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=int, nargs="*", metavar="N", help="e.g. 10000 100000")
    parser.add_argument("--fill", nargs=2, metavar=("DB", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fill:
        fill(args.fill[0], int(args.fill[1]))
        return
    by_site = pages()
    levels([b for items in by_site.values() for _, b in items])
    archive(by_site)
    for n in args.export or []:
        export_rss(n)
    print(
        f"(bench process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB)"
    )


if __name__ == "__main__":
    main()
