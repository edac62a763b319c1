"""A daemon that tells its operator when it stops archiving: real `vnnews run` processes over
loopback sites, on SQLite and PostgreSQL.

One healthy site, one that goes dead and one whose layout rots: their statuses (`vnnews sites`,
`vnnews health`, `/healthz`, `/metrics`), one WARNING for each bad one and none for the healthy
one, idle passes that leave no trace, SIGHUP with a bad then a good file, and a shutdown in the
middle of a fetch that hands the URL back without a traceback.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from storage.db import make_engine, session_factory, upgrade
from storage.models import CrawlRun, Site, Url
from tests.support.loopback import LoopbackServer, send
from tests.support.mirror import MirrorSite, dead_port
from tests.support.paths import REAL, golden
from tests.support.sites import TT_PAGES

VNNEWS = str(Path(sys.executable).parent / "vnnews")

EMPTY_PAGE = (
    '<html><head><title>Trang chủ mới {n}</title></head><body><div class="menu">'
    '<a href="/">Trang chủ</a></div></body></html>'
)
UNDATED_PAGE = (
    '<html><head><title>Bài {n}</title></head><body><div class="new-layout"><h1>Tiêu đề {n}</h1>'
    + "<p>Đoạn văn bản {n} của bài viết với bố cục khác hẳn, nhiều chữ để đủ dài. </p>" * 8
    + "</div></body></html>"
)


def _tt_site(tag: str) -> MirrorSite:
    """The real tuoitre page, its headline tagged per site: the same story on two sites would
    be one article (content hash), owned by whichever site stored it first."""
    site = MirrorSite(LoopbackServer()).start()
    for path, fixture in TT_PAGES:
        title = str(golden(fixture)["title"])
        body = (REAL / fixture).read_bytes().replace(title.encode(), f"{title} ({tag})".encode())
        site.page(path, body)
        site.add_item(path, title)
    return site


@pytest.fixture
def sites() -> Iterator[dict[str, MirrorSite]]:
    good, dead, extra = _tt_site("good"), _tt_site("dead"), _tt_site("extra")
    rot = MirrorSite(LoopbackServer()).start()
    for n in range(6):  # a redesign: the profile's selectors find no body, or no date
        page = EMPTY_PAGE if n % 2 else UNDATED_PAGE
        rot.page(f"/thoi-su/bai-{n}.htm", page.format(n=n).encode())
        rot.add_item(f"/thoi-su/bai-{n}.htm", f"bài {n}")
    yield {"good": good, "dead": dead, "rot": rot, "extra": extra}
    for site in (good, dead, rot, extra):
        site.stop()


def _site(name: str, mirror: MirrorSite, every: str = "15m") -> str:
    return f"""
[[site]]
name = "{name}"
base_url = "{mirror.base_url}"
feeds = ["{mirror.url("/rss.xml")}"]
profile = "tuoitre"
article_pattern = '\\.htm$'
every = "{every}"
"""


def _config(path: Path, *site_blocks: str) -> Path:
    path.write_text(
        """
[fetch]
min_delay = 0
timeout = "20s"
allow_hosts = ["127.0.0.1"]
max_retries = 0
[daemon]
jitter = 0
drain_every = "2s"
failing_after = 1
log_stats_every = "2s"
"""
        + "".join(site_blocks),
        encoding="utf-8",
    )
    return path


def _cli(db_url: str, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VNNEWS, "--db", db_url, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _wait(what: str, cond: Callable[[], bool], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()}")


def _lines(log: Path) -> list[dict[str, object]]:
    out = []
    for line in log.read_text().splitlines():
        out.append(json.loads(line))  # every line is JSON: stderr is a file, not a TTY
    return out


def _status_warnings(log: Path, site: str) -> list[dict[str, object]]:
    return [
        x
        for x in _lines(log)
        if x["level"] == "WARNING" and x.get("site") == site and "status=" in str(x["msg"])
    ]


def _get(url: str) -> httpx.Response:
    with httpx.Client(trust_env=False, timeout=30) as client:
        return client.get(url)


def test_a_dead_and_a_rotting_site_are_told_while_a_healthy_one_stays_ok(
    db_url: str, sites: dict[str, MirrorSite], tmp_path: Path
) -> None:
    config = _config(
        tmp_path / "sources.toml",
        _site("good", sites["good"]),
        _site("dead", sites["dead"]),
        _site("rot", sites["rot"]),
    )
    engine = make_engine(db_url)
    upgrade(engine)
    # everything archived once while all three sites were up
    first = _cli(db_url, config, "crawl")
    assert "good: discovered 1" in first.stdout, first.stdout + first.stderr
    health = _cli(db_url, config, "health")
    assert health.returncode == 1 and "no daemon alive" in health.stdout, health.stdout
    sites["dead"].stop()  # the site goes dead: connection refused from now on

    port = dead_port()
    log = tmp_path / "daemon.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [VNNEWS, "--db", db_url, "--config", str(config), "run", "--http", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        _wait(
            "a WARNING for the dead and the rotting site",
            lambda: bool(_status_warnings(log, "dead")) and bool(_status_warnings(log, "rot")),
            log,
        )
        # several idle drain passes (every 2 s) and summary lines go by
        _wait("three summary lines", lambda: log.read_text().count("pages/min") >= 3, log)

        healthz = _get(f"http://127.0.0.1:{port}/healthz")
        assert healthz.status_code == 503, healthz.text
        assert "site dead is failing" in healthz.text and "site rot is rotting" in healthz.text
        assert "site good" not in healthz.text
        metrics = _get(f"http://127.0.0.1:{port}/metrics")
        assert metrics.status_code == 200
        body = metrics.text
        for line in (
            'vnnews_site_status{site="good",status="ok"} 1.0',
            'vnnews_site_status{site="dead",status="failing"} 1.0',
            'vnnews_site_status{site="rot",status="rotting"} 1.0',
            'vnnews_site_status{site="rot",status="ok"} 0.0',
            'vnnews_fetches_total{site="dead",status="error"} 1.0',
            'vnnews_frontier_urls{state="fetched"}',
            'vnnews_site_rot_share{site="rot"} 1.0',
            'vnnews_site_rot_share{site="good"} 0.0',
            "vnnews_healthy 0.0",
            "vnnews_daemons_alive 1.0",
            'vnnews_passes_total{outcome="idle",site="good"}',
        ):
            assert line in body, line + "\n" + body
        assert 'vnnews_site_seconds_since_new_article{site="good"}' in body
        assert "_created" not in body
        assert _get(f"http://127.0.0.1:{port}/nothing").status_code == 404

        health = _cli(db_url, config, "health")
        assert health.returncode == 1, health.stdout
        assert "site dead is failing" in health.stdout and "connection" in health.stdout.lower()
        assert "site rot is rotting: 100% of the newest 6 article pages bad" in health.stdout
        assert "site good" not in health.stdout and "no daemon alive" not in health.stdout
        listed = json.loads(_cli(db_url, config, "sites", "--json").stdout)
        statuses = {x["name"]: x["status"] for x in listed}
        assert statuses == {"good": "ok", "dead": "failing", "rot": "rotting"}
        assert {"name", "status", "reason", "last_new_article_at"} <= set(listed[0])
        table = _cli(db_url, config, "sites").stdout
        assert "rotting" in table and "failing" in table, table
        # a long reason is cut in the table, and says so; --json has it whole
        whole = next(x["reason"] for x in listed if x["name"] == "dead")
        row = next(line for line in table.splitlines() if line.startswith("dead "))
        assert len(whole) > 100 and row.endswith("…"), (whole, row)
        assert whole.startswith(row[row.index("  1 failing") + 2 : -1]), (whole, row)

        # one WARNING each, naming the site, the share and a sample URL; none for the good site
        (rot_warning,) = _status_warnings(log, "rot")
        assert "100%" in str(rot_warning["msg"]) and sites["rot"].url("/thoi-su/bai-") in str(
            rot_warning["msg"]
        )
        (dead_warning,) = _status_warnings(log, "dead")
        assert "status=failing" in str(dead_warning["msg"])
        assert not [x for x in _lines(log) if x.get("site") == "good" and x["level"] != "INFO"]
        # idle passes: counted, not logged, not in crawl_runs
        with session_factory(engine)() as s:
            idle = dict(s.execute(select(Site.name, Site.idle_passes)).all())
            runs = list(s.scalars(select(CrawlRun)))
        assert idle["good"] >= 1, idle
        # (a pass still running has its row, its counts come when it ends: not judged here)
        done = [r for r in runs if r.finished_at is not None]
        assert all(r.fetched + r.discovered + r.not_modified + r.errors > 0 for r in done)
        assert not [x for x in _lines(log) if "pass done" in str(x["msg"]) and "drain" in str(x)]

        # SIGHUP with a broken file: the old configuration stays and the log says why
        good_text = config.read_text()
        config.write_text(good_text + _site("broken", sites["extra"], every="5x"))
        proc.send_signal(signal.SIGHUP)
        _wait("the refusal", lambda: "reload refused" in log.read_text(), log)
        assert proc.poll() is None
        assert "every: bad duration '5x'" in log.read_text()
        # SIGHUP with a good file: dead and rot removed, extra added, good changed
        _config(
            config,
            _site("good", sites["good"], every="20m"),
            _site("extra", sites["extra"]),
        )
        proc.send_signal(signal.SIGHUP)
        _wait(
            "the added site's first pass",
            lambda: any(
                x.get("site") == "extra" and "fetched=1" in str(x["msg"]) for x in _lines(log)
            ),
            log,
        )
        reloaded = [x for x in _lines(log) if str(x["msg"]).startswith("reloaded")]
        assert "added extra; removed dead, rot; changed good" in str(reloaded[-1]["msg"])
        healthz = _get(f"http://127.0.0.1:{port}/healthz")
        assert healthz.status_code == 200, healthz.text
        assert _cli(db_url, config, "health").returncode == 0
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        engine.dispose()
    text = log.read_text()
    assert proc.returncode == 0, text
    assert "Traceback" not in text
    assert "daemon stopped" in text


def test_shutdown_during_a_fetch_hands_the_url_back_without_a_traceback(
    db_url: str, tmp_path: Path
) -> None:
    server = LoopbackServer().start()
    asked = threading.Event()
    release = threading.Event()

    def feed(req: BaseHTTPRequestHandler) -> None:
        rss = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            f"<item><title>slow</title><link>{server.url('/slow.htm')}</link></item>"
            "</channel></rss>"
        )
        send(req, 200, rss.encode(), {"content-type": "application/rss+xml"})

    def slow(req: BaseHTTPRequestHandler) -> None:
        asked.set()
        release.wait(30)  # the answer never comes while the daemon runs

    server.routes["/rss.xml"] = feed
    server.routes["/slow.htm"] = slow
    server.routes["/robots.txt"] = lambda req: send(req, 200, b"", {"content-type": "text/plain"})
    config = _config(
        tmp_path / "sources.toml",
        f"""
[[site]]
name = "slow"
base_url = "{server.url("/")}"
feeds = ["{server.url("/rss.xml")}"]
article_pattern = '\\.htm$'
""",
    )
    engine = make_engine(db_url)
    upgrade(engine)
    log = tmp_path / "daemon.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [VNNEWS, "--db", db_url, "--config", str(config), "run", "--log-format", "text"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        assert asked.wait(60), log.read_text()
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        server.stop()
    text = log.read_text()
    assert proc.returncode == 0, text
    assert "Traceback" not in text and "CancelledError" not in text and "ERROR" not in text, text
    assert "daemon stopped" in text
    assert not text.lstrip().startswith("{")  # --log-format text
    with session_factory(engine)() as s:
        row = s.scalars(select(Url).where(Url.url == server.url("/slow.htm"))).one()
    engine.dispose()
    assert row.state == "new" and row.last_fetched_at is None
    assert row.next_due is not None and row.next_due <= datetime.now(UTC)  # handed back: due now


def test_http_address_mistakes_are_one_line(sqlite_url: str, tmp_path: Path) -> None:
    port = dead_port()
    config = _config(
        tmp_path / "sources.toml",
        f'[[site]]\nname = "x"\nfeeds = ["http://127.0.0.1:{port}/rss.xml"]\n'
        f'base_url = "http://127.0.0.1:{port}/"\n',
    )
    _cli(sqlite_url, config, "db", "upgrade")
    bad = _cli(sqlite_url, config, "run", "--http", "localhost")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "vnnews run: Invalid value for --http: 'localhost': expected HOST:PORT, e.g. 127.0.0.1:9108"
    ]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy_port = taken.getsockname()[1]
        busy = _cli(sqlite_url, config, "run", "--http", f"127.0.0.1:{busy_port}")
        # checked before the archive is opened: a second daemon creates no database
        fresh = tmp_path / "second.db"
        second = _cli(f"sqlite:///{fresh}", config, "run", "--http", f"127.0.0.1:{busy_port}")
    assert second.returncode == 1 and "cannot listen" in second.stderr, second.stderr
    assert not fresh.exists() and not Path(f"{fresh}.lock").exists()
    assert busy.returncode == 1, busy.stderr
    assert (
        busy.stderr.strip()
        .splitlines()[-1]
        .startswith(f"vnnews: --http 127.0.0.1:{busy_port}: cannot listen: ")
    ), busy.stderr
    assert "Traceback" not in busy.stderr
