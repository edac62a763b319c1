"""The daemon as a user runs it: a real `vnnews run` process against loopback mirrors."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.db import make_engine, session_factory, upgrade
from storage.models import Worker
from tests.support.archive import count_rows
from tests.support.mirror import MirrorSite, dead_port
from tests.support.sites import tt_mirror

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
    dead_errors = [line for line in err.splitlines() if "site=dead" in line and "WARNING" in line]
    assert len(dead_errors) == 1, err
    assert f"127.0.0.1:{port}/rss.xml" in dead_errors[0]
    assert "Traceback" not in err
    assert "daemon stopped" in err
    # the daemon said who it was while it ran, and that it stopped cleanly
    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        rows = list(s.scalars(select(Worker)))
    engine.dispose()
    assert len(rows) == 1 and rows[0].pid == proc.pid and rows[0].stopped_at is not None
    assert rows[0].heartbeat_at >= rows[0].started_at
