"""Soak bench: ``python bench/soak.py [--pages 20000]`` (or ``make bench-soak``).

Pushes N pages through a real ``vnnews run`` daemon (a subprocess, SQLite in a temp directory)
from a loopback NukeViet-like site (tests/support/big_mirror.py, every article distinct), and
samples the daemon's resident memory (VmRSS) each time another 1,000 pages are archived.
Reports pages/s and RSS growth after warm-up (the first 2,000 pages); the target is under 10%.

Every in-memory cache of the daemon is bounded, so memory must level off:
politeness per-host state (LRU, 4,096 hosts), robots.txt policies (LRU, 4,096 origins), pinned
addresses (LRU, 4,096 hosts), httpx's pool (100 connections), extraction's lru_caches (class /
selector tests: 4,096 and 8,192 entries), the profile registry (lru_cache 8), one zstd context
per thread, a pass's error log (20 lines), and per-site scheduler state (jobs, locks). URLs live
in the database, never in memory: each is claimed just before its fetch.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from storage import frontier, repo  # noqa: E402
from storage.db import make_engine, session_factory, upgrade  # noqa: E402
from storage.models import Page  # noqa: E402
from tests.support.big_mirror import BigMirror  # noqa: E402

VNNEWS = str(Path(sys.executable).parent / "vnnews")
WARM_UP = 2000


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=20_000)
    ap.add_argument("--every", type=int, default=1_000, help="sample RSS every N pages")
    args = ap.parse_args()
    m = BigMirror(args.pages).start()
    tmp = Path(tempfile.mkdtemp(prefix="vnnews-soak-"))
    db = tmp / "vnnews.db"
    config = tmp / "sources.toml"
    config.write_text(
        f"""
[fetch]
min_delay = 0
allow_hosts = ["127.0.0.1"]
[daemon]
jitter = 0
drain_every = "1s"
batch = 1000
[[site]]
name = "big"
base_url = "{m.url("/")}"
feeds = ["{m.url("/rss.xml")}"]
article_pattern = '-\\d+\\.html$'
horizon = 0
""",
        encoding="utf-8",
    )
    engine = make_engine(str(db))
    upgrade(engine)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    with sessions.begin() as s:
        site_id = repo.ensure_site(s, "big", m.url("/"), now).id
        frontier.enqueue(s, site_id, [frontier.NewUrl(u) for u in m.article_urls()], now=now)
    log = (tmp / "daemon.log").open("w")
    proc = subprocess.Popen(
        [VNNEWS, "-q", "--db", str(db), "--config", str(config), "run"],
        stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    samples: list[tuple[int, int, float]] = []
    start = time.monotonic()
    try:
        mark = args.every
        while mark <= args.pages:
            if proc.poll() is not None:
                raise SystemExit(f"daemon exited: see {tmp / 'daemon.log'}")
            with sessions() as s:
                pages = int(s.scalar(select(func.count()).select_from(Page)) or 0)
            if pages >= mark:
                samples.append((pages, rss_kb(proc.pid), time.monotonic() - start))
                print(f"{pages:>6} pages  RSS {samples[-1][1] / 1024:6.1f} MB  "
                      f"{samples[-1][2]:6.0f} s", flush=True)  # fmt: skip
                mark += args.every
                continue
            time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(60)
        log.close()
        m.stop()
        engine.dispose()
    elapsed = samples[-1][2]
    warm = next((s for s in samples if s[0] >= WARM_UP), samples[0])
    peak = max(s[1] for s in samples if s[0] >= warm[0])
    growth = (samples[-1][1] - warm[1]) / warm[1] * 100
    print(
        f"\n{samples[-1][0]} pages in {elapsed:.0f} s ({samples[-1][0] / elapsed:.0f} pages/s); "
        f"RSS after warm-up ({warm[0]} pages) {warm[1] / 1024:.1f} MB, at the end "
        f"{samples[-1][1] / 1024:.1f} MB, peak {peak / 1024:.1f} MB: growth {growth:+.1f}% "
        f"({'OK' if growth < 10 else 'OVER'} the 10% budget)"
    )
    print(f"database and log kept in {tmp}")


if __name__ == "__main__":
    main()
