"""``vnnews crawl`` and ``vnnews backfill`` stopped with Ctrl-C say what they archived before the
stop: a real process over a loopback site whose second page never answers, interrupted with
SIGINT."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from storage.db import make_engine, upgrade
from tests.support.archive import count_rows
from tests.support.mirror import MirrorSite
from tests.support.sites import one_site_config, tt_mirror

VNNEWS = str(Path(sys.executable).parent / "vnnews")
HANGING = "/kinh-doanh/khong-bao-gio-tra-loi-20260307075519175.htm"


@pytest.fixture
def mirror() -> Iterator[MirrorSite]:
    site = tt_mirror()
    released = threading.Event()

    def hang(req: BaseHTTPRequestHandler) -> None:
        released.wait(60)  # answers nothing until the test is over

    site.server.routes[HANGING] = hang
    site.add_item(HANGING, "never answers")
    urls = "".join(f"<url><loc>{site.url(item.path)}</loc></url>" for item in site.items)
    sitemap = '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    site.page("/sitemap.xml", (sitemap + urls + "</urlset>").encode(), "application/xml")
    yield site
    released.set()
    site.stop()


@pytest.mark.parametrize(
    ("command", "sig", "sigint_ignored"),
    [
        ("crawl", signal.SIGINT, False),
        ("backfill", signal.SIGINT, False),
        ("crawl --json", signal.SIGINT, False),
        # `timeout 1h vnnews crawl`, a service manager: SIGTERM stops it the same way
        ("crawl", signal.SIGTERM, False),
        ("backfill", signal.SIGTERM, False),
        # `vnnews crawl &` in a script starts with SIGINT ignored: SIGTERM must still stop it
        ("crawl", signal.SIGTERM, True),
    ],
)
def test_an_interrupted_crawl_prints_what_it_archived(
    db_url: str,
    mirror: MirrorSite,
    tmp_path: Path,
    command: str,
    sig: signal.Signals,
    sigint_ignored: bool,
) -> None:
    config = one_site_config(
        tmp_path / "sources.toml", mirror, fetch="timeout = 120",
        extra=f'sitemaps = ["{mirror.url("/sitemap.xml")}"]\nprofile = "tuoitre"',
    )  # fmt: skip
    engine = make_engine(db_url)
    upgrade(engine)
    engine.dispose()
    proc = subprocess.Popen(
        [VNNEWS, "--db", db_url, "--config", str(config), *command.split()]
        + (["tt"] if command == "backfill" else []),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        if sigint_ignored
        else None,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if count_rows(db_url) >= 1 and mirror.server.requests_for(HANGING):
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the crawl ended by itself"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err
        assert "vnnews: interrupted" in err, err
    else:
        assert proc.returncode == 143, err
        assert "vnnews: terminated" in err and "leaked semaphore" not in err, err
    assert "Traceback" not in err, err
    if command == "crawl --json":  # the counts so far, marked as such
        (line,) = out.splitlines()
        summary = json.loads(line)
        assert summary["interrupted"] is True and summary["site"] == "tt"
        assert (summary["discovered"], summary["fetched"], summary["new_articles"]) == (2, 1, 1)
        return
    # the pass's line, as a finished run prints it: the archived page counted
    lines = [line for line in out.splitlines() if line.startswith("tt: ")]
    assert len(lines) == 1, out
    assert "discovered 2, fetched 1, new 1," in lines[0], lines[0]
    assert lines[0].startswith("tt: backfill " if command == "backfill" else "tt: discovered")
