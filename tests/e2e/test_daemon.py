"""The daemon as a user runs it: a real `vnnews run` process against loopback mirrors."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from storage.db import make_engine, session_factory, upgrade
from storage.models import Worker
from tests.support.archive import count_rows
from tests.support.mirror import MirrorSite, dead_port
from tests.support.sites import one_site_config, tt_mirror

VNNEWS = str(Path(sys.executable).parent / "vnnews")


@pytest.fixture
def mirror() -> Iterator[MirrorSite]:
    site = tt_mirror()
    yield site
    site.stop()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_daemon_archives_then_stops_cleanly(
    db_url: str, mirror: MirrorSite, tmp_path: Path, sig: signal.Signals
) -> None:
    port = dead_port()
    config = tmp_path / "sources.toml"
    config.write_text(
        f"""
[fetch]
min_delay = 0
allow_hosts = ["127.0.0.1"]
max_retries = 0
[daemon]
jitter = 0
[[site]]
name = "tt"
base_url = "{mirror.base_url}"
feeds = ["{mirror.url("/rss.xml")}"]
profile = "tuoitre"
article_pattern = '\\.htm$'
[[site]]
name = "dead"
base_url = "http://127.0.0.1:{port}/"
feeds = ["http://127.0.0.1:{port}/rss.xml"]
""",
        encoding="utf-8",
    )
    engine = make_engine(db_url)
    upgrade(engine)
    engine.dispose()
    log = tmp_path / "daemon.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [VNNEWS, "--db", db_url, "--config", str(config), "run"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        # both sites' first passes: the live one archives, the dead one logs its error
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if count_rows(db_url) >= 1 and "site=dead" in log.read_text():
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the daemon exited by itself: " + log.read_text()
        assert count_rows(db_url) == 1
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = log.read_text()
    assert proc.returncode == 0, err
    dead_errors = [
        line for line in err.splitlines() if "site=dead url=" in line and "WARNING" in line
    ]
    assert len(dead_errors) == 1, err
    assert f"127.0.0.1:{port}/rss.xml" in dead_errors[0]
    # a site that never worked is failing from its first failing pass, said once
    status = [line for line in err.splitlines() if "site=dead status=failing" in line]
    assert len(status) == 1 and "1 failing pass, none succeeded yet" in status[0], err
    assert "Traceback" not in err
    assert "daemon stopped" in err
    # the daemon said who it was while it ran, and that it stopped cleanly
    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        rows = list(s.scalars(select(Worker)))
    engine.dispose()
    assert len(rows) == 1 and rows[0].pid == proc.pid and rows[0].stopped_at is not None
    assert rows[0].heartbeat_at >= rows[0].started_at


def test_a_listing_in_the_feed_is_no_error_in_the_daemons_log_and_metrics(
    sqlite_url: str, tmp_path: Path
) -> None:
    """The daemon counts a page that answers with no article (a listing in the feed) as an
    extraction failure, not as an error: its pass line, its stats line and ``errors_total``
    agree with ``vnnews crawl``'s summary and ``vnnews sites``."""
    site = tt_mirror()
    site.real_page("/tin-moi.htm", "vnexpress.net/meth04-list.html")
    site.add_item("/tin-moi.htm", "Tin mới")
    port = dead_port()
    config = one_site_config(
        tmp_path / "sources.toml", site, fetch='[daemon]\nlog_stats_every = "1s"'
    )
    log = tmp_path / "daemon.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [VNNEWS, "--db", sqlite_url, "--config", str(config), "run", "--http",
             f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if "pass done" in log.read_text() and "pages/min" in log.read_text():
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the daemon exited by itself: " + log.read_text()
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        site.stop()
    text = log.read_text()
    assert proc.returncode == 0, text
    assert 'vnnews_extraction_failures_total{site="tt"} 1.0' in metrics, metrics
    assert 'vnnews_errors_total{site="tt"}' not in metrics, metrics
    (done,) = [line for line in text.splitlines() if "pass done" in line]
    assert "fetched=2 new=1" in done and "not_articles=1 errors=0" in done, done
    stats = [line for line in text.splitlines() if "pages/min" in line]
    assert stats and all(" 0 errors in the last" in line for line in stats), stats
