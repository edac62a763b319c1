"""The CLI contract: every command has --help; errors are one line naming what failed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from jobs.cli import cli
from tests.support.faults import FaultServer
from tests.support.loopback import Response
from tests.support.paths import GOLDEN, REAL

VNNEWS = str(Path(sys.executable).parent / "vnnews")


def _walk(group: click.Group, prefix: tuple[str, ...] = ()) -> list[list[str]]:
    """Every command path of the CLI, sub-groups included: a new command is covered by itself."""
    out: list[list[str]] = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        out.append(list(path))
        if isinstance(command, click.Group):
            out.extend(_walk(command, path))
    return out


COMMANDS = _walk(cli)


def test_the_walk_finds_every_documented_command() -> None:
    names = {" ".join(c) for c in COMMANDS}
    assert {
        "run",
        "crawl",
        "backfill",
        "probe",
        "reextract",
        "extract",
        "articles",
        "search",
        "show",
        "sites",
        "stats",
        "db",
        "db upgrade",
    } <= names


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c))
def test_every_command_has_help(cmd: list[str]) -> None:
    result = CliRunner().invoke(cli, [*cmd, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_global_options_are_documented() -> None:
    out = CliRunner().invoke(cli, ["--help"]).output
    assert "--db" in out and "VNNEWS_DB" in out and "--config" in out and "VNNEWS_CONFIG" in out


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([VNNEWS, *args], capture_output=True, text=True, timeout=60, env=env)


def test_ctrl_c_while_the_cli_loads_is_one_line(tmp_path: Path) -> None:
    # the CLI's imports take most of a second: Ctrl-C then printed a KeyboardInterrupt
    # traceback. -X importtime says when they have begun: a module imported after the entry
    # point is one of the CLI's (the script imports nothing else)
    cfg = tmp_path / "sources.toml"
    cfg.write_text(
        '[fetch]\nallow_hosts = ["127.0.0.1"]\n'
        '[[site]]\nname = "x"\nbase_url = "http://127.0.0.1:9/"\nfeeds = ["http://127.0.0.1:9/r"]\n'
    )
    cmd = [sys.executable, "-X", "importtime", VNNEWS, "--config", str(cfg), "run"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    watchdog = threading.Timer(60, proc.kill)  # the line never seen: fail, do not hang
    watchdog.start()
    seen, entered = "", False
    try:
        for line in proc.stderr:
            seen += line
            if entered and line.startswith("import time:"):
                break
            entered = entered or line.rstrip().endswith("| jobs.entry")
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=60)
    finally:
        watchdog.cancel()
    err = "".join(
        line + "\n" for line in (seen + rest).splitlines() if not line.startswith("import time:")
    )
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-2000:]
    assert (proc.returncode, err) == (130, "vnnews: interrupted\n")


def test_ctrl_c_while_the_daemon_starts_stops_it_with_exit_0(tmp_path: Path) -> None:
    # after the CLI has loaded, before the daemon's handler is in place (the database is being
    # created): it exited 130 "interrupted" where the README promises run's exit 0
    cfg = tmp_path / "sources.toml"
    cfg.write_text(
        '[fetch]\nallow_hosts = ["127.0.0.1"]\n'
        '[[site]]\nname = "x"\nbase_url = "http://127.0.0.1:9/"\nfeeds = ["http://127.0.0.1:9/r"]\n'
    )
    cmd = [VNNEWS, "--db", f"sqlite:///{tmp_path}/x.db", "--config", str(cfg), "run"]
    cmd += ["--log-format", "text"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    watchdog = threading.Timer(60, proc.kill)
    watchdog.start()
    try:
        seen = ""
        for line in proc.stderr:
            seen += line
            if "creating database" in line:
                break
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=60)
    finally:
        watchdog.cancel()
    err = seen + rest
    assert "Traceback" not in err, err
    assert proc.returncode == 0 and "vnnews daemon stopped" in err, err


def test_bad_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[site]]\nname = "x"\nbase_url = "https://x.vn/"\nfeeds = ["https://x.vn/rss"]\nevery = "soon"\n'
    )
    proc = run("--db", f"sqlite:///{tmp_path}/x.db", "--config", str(bad), "crawl")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert f"{bad}: site[0].every: bad duration 'soon'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unmigrated_database_and_missing_article_are_one_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/x.db"
    proc = run("--db", db, "articles")
    assert (
        proc.returncode == 1
        and f"start with 'vnnews --db {tmp_path}/x.db crawl'" in proc.stderr
        and proc.stderr.count("\n") == 1
    )
    assert run("--db", db, "db", "upgrade").returncode == 0
    proc = run("--db", db, "show", "12345")
    assert (
        proc.returncode == 1 and proc.stderr.strip() == "vnnews: no article with id or URL '12345'"
    )


def test_unknown_site_names_the_config(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/x.db"
    cfg = tmp_path / "s.toml"
    cfg.write_text(
        '[[site]]\nname = "x"\nbase_url = "https://x.vn/"\nfeeds = ["https://x.vn/rss"]\n'
    )
    proc = run("--db", db, "--config", str(cfg), "crawl", "nope")
    assert (
        proc.returncode == 2 and "no site named 'nope'" in proc.stderr and str(cfg) in proc.stderr
    )


def test_extract_a_saved_real_page_as_json() -> None:
    page = REAL / "vnexpress.net" / "meth04-article.html"
    golden = json.loads((GOLDEN / "vnexpress.net" / "meth04-article.html.json").read_text())
    result = CliRunner().invoke(
        cli,
        [
            "extract",
            str(page),
            "--url",
            golden.get("url", "https://vnexpress.net/x-5047363.html"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["title"] == golden["title"]
    assert data["extractor"].startswith("profile:vnexpress")


@pytest.mark.parametrize("site", ["vnexpress.net", "dantri.com.vn", "tuoitre.vn"])
def test_extract_of_a_listing_page_fails_in_one_line(site: str) -> None:
    # the crawler's not_article rule (scraper.extract.is_article), through a real process
    proc = run(
        "extract", str(REAL / site / "meth04-list.html"), "--url", f"https://{site}/kinh-doanh"
    )
    assert proc.returncode == 1, proc.stdout[:300]
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("vnnews: not an article")


def test_extract_of_a_feed_url_names_it_in_one_line(tmp_path: Path) -> None:
    feed = (REAL / "vietnambiz.vn" / "feed-vietnambiz.xml").read_bytes()
    with FaultServer() as srv:
        srv.routes["/rss.xml"] = Response(feed, headers={"content-type": "application/rss+xml"})
        srv.routes["/file.pdf"] = Response(b"%PDF-1.4", headers={"content-type": "application/pdf"})
        # XML that is no feed: refused for its type, not read as a page
        other = b"<?xml version='1.0'?><data>" + "<p>Tin Lào Cai hôm nay</p>".encode() * 50
        srv.routes["/data.xml"] = Response(
            other + b"</data>", headers={"content-type": "application/xml"}
        )
        cfg = tmp_path / "sources.toml"
        cfg.write_text('[fetch]\nallow_hosts = ["127.0.0.1"]\nrespect_robots = false\n')
        as_feed = run("--config", str(cfg), "extract", srv.url("/rss.xml"))
        as_pdf = run("--config", str(cfg), "extract", srv.url("/file.pdf"))
        as_xml = run("--config", str(cfg), "extract", srv.url("/data.xml"))
    assert as_feed.returncode == 1 and as_feed.stdout == ""
    assert as_feed.stderr.count("\n") == 1, as_feed.stderr
    assert "a feed (<rss>): list it under a [[site]]'s feeds" in as_feed.stderr
    # not XML either: the fetcher's own refusal stands
    assert as_pdf.returncode == 1 and "content type 'application/pdf'" in as_pdf.stderr
    assert as_xml.returncode == 1 and "content type 'application/xml'" in as_xml.stderr


def test_extract_of_a_configured_sites_url_extracts_as_the_crawler_does(tmp_path: Path) -> None:
    # a [[site]] on loopback whose profile key names vnexpress: the crawler extracts its pages
    # with that profile and files them under the site's name; so does extract
    page = (REAL / "vnexpress.net" / "meth04-article.html").read_bytes()
    golden = json.loads((GOLDEN / "vnexpress.net" / "meth04-article.html.json").read_text())
    with FaultServer() as srv:
        srv.routes["/bai-viet-1.html"] = Response(
            page, headers={"content-type": "text/html; charset=utf-8"}
        )
        fetch = '[fetch]\nallow_hosts = ["127.0.0.1"]\nrespect_robots = false\n'
        bare = tmp_path / "bare.toml"
        bare.write_text(fetch)
        cfg = tmp_path / "sources.toml"
        cfg.write_text(
            fetch
            + f'[[site]]\nname = "other"\nbase_url = "http://127.0.0.1:1/"\nfeeds = ["http://127.0.0.1:1/rss"]\n'
            # two sites on one host: the URL is the one whose article_pattern it matches
            f'[[site]]\nname = "video"\nbase_url = "{srv.url("/")}"\nfeeds = ["{srv.url("/v")}"]\n'
            "article_pattern = '/video/'\n"
            f'[[site]]\nname = "dongnai"\nbase_url = "{srv.url("/")}"\nprofile = "vnexpress"\n'
            f'feeds = ["{srv.url("/rss")}"]\n'
            "article_pattern = '/bai-viet-\\d+\\.html$'\n"
        )
        (tmp_path / "saved.html").write_bytes(page)
        mine = run("--config", str(cfg), "extract", srv.url("/bai-viet-1.html"), "--json")
        by_name = run(
            "--config", str(cfg), "extract", str(tmp_path / "saved.html"), "--site", "dongnai"
        )
        nosuch = run(
            "--config", str(cfg), "extract", str(tmp_path / "saved.html"), "--site", "nosuch"
        )
        unconfigured = run("--config", str(bare), "extract", srv.url("/bai-viet-1.html"), "--json")
    assert mine.returncode == 0, mine.stderr
    data = json.loads(mine.stdout)
    assert data["site"] == "dongnai" and data["extractor"].startswith("profile:vnexpress")
    assert data["title"] == golden["title"]
    # a saved page of it, the site named: the same
    assert by_name.returncode == 0, by_name.stderr
    assert "site:      dongnai" in by_name.stdout and golden["title"] in by_name.stdout
    # a name that is neither: a usage error naming both kinds
    assert nosuch.returncode == 2 and nosuch.stderr.count("\n") == 1, nosuch.stderr
    assert "no [[site]] or profile named 'nosuch' (sites: other, video, dongnai; profiles: " in (
        nosuch.stderr
    )
    # no [[site]] for it: the host, and whatever the URL resolves to
    assert unconfigured.returncode == 0, unconfigured.stderr
    other = json.loads(unconfigured.stdout)
    assert other["site"] == "127.0.0.1" and not other["extractor"].startswith("profile:vnexpress")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--site", ""], "no [[site]] or profile named ''"),
        (["--url", "notaurl"], "'notaurl' is not a URL"),
        (["http://127.0.0.1:1/x.html", "--url", "http://127.0.0.1:2/y"], "is for a saved page"),
    ],
    ids=["empty-site", "url-not-a-url", "url-beside-a-url"],
)
def test_extract_options_that_cannot_apply_are_usage_errors(args: list[str], said: str) -> None:
    # each was taken silently: --site '' as no --site, --url notaurl as the page's URL, --url
    # beside a URL ignored
    page = str(REAL / "vnexpress.net" / "meth04-article.html")
    proc = run("extract", *(args if args[0].startswith("http") else [page, *args]))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert said in proc.stderr


def test_extract_missing_file_is_a_usage_error_in_one_line(tmp_path: Path) -> None:
    proc = run("extract", "/nonexistent/page.html")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "/nonexistent/page.html: no such file" in proc.stderr
    # a file that exists but cannot be read is no usage error: exit 1, naming it
    unreadable = tmp_path / "page.html"
    unreadable.mkdir()
    proc = run("extract", str(unreadable))
    assert proc.returncode == 1 and proc.stderr.startswith(f"vnnews: {unreadable}: cannot read")


@pytest.mark.parametrize(
    "args",
    [
        ["articles", "--since", "nope"],
        ["articles", "--since", "2026-06-01", "--until", "2026-01-01"],
        ["show"],
        ["--bogus", "sites"],
        ["nope"],
    ],
    ids=lambda a: " ".join(a),
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str]) -> None:
    proc = run(*args)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("vnnews"), proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("option", ["--config", "--db", "-v"])
def test_a_global_option_after_the_command_says_where_it_goes(option: str) -> None:
    proc = run("sites", option, *([] if option == "-v" else ["x"]))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "No such option" in proc.stderr
    assert f"put it before the command, as in `vnnews {option} ... sites`" in proc.stderr


def test_an_unknown_option_gets_no_hint() -> None:
    proc = run("sites", "--bogus")
    assert proc.returncode == 2 and "before the command" not in proc.stderr


def test_run_with_no_sites_refuses(tmp_path: Path) -> None:
    cfg = tmp_path / "empty.toml"
    cfg.write_text("[fetch]\nmin_delay = 1\n")
    result = CliRunner().invoke(
        cli, ["--db", f"sqlite:///{tmp_path}/x.db", "--config", str(cfg), "run"]
    )
    assert result.exit_code == 2
    assert result.output.strip() == f"vnnews: {cfg}: no enabled sites: nothing to run"


@pytest.mark.parametrize("ident", ["99999999999999999999999", "9223372036854775808", "²"])
def test_show_an_impossible_id_is_no_article(tmp_path: Path, ident: str) -> None:
    db = f"sqlite:///{tmp_path}/x.db"
    assert CliRunner().invoke(cli, ["--db", db, "db", "upgrade"]).exit_code == 0
    result = CliRunner().invoke(cli, ["--db", db, "show", ident])
    assert result.exit_code == 1
    assert result.output.strip() == f"vnnews: no article with id or URL {ident!r}"


def test_extract_reads_at_most_the_byte_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tracemalloc

    cfg = tmp_path / "s.toml"
    cfg.write_text("[fetch]\nmax_bytes = 1_000_000\n")
    tracemalloc.start()
    try:
        result = CliRunner().invoke(cli, ["--config", str(cfg), "extract", "/dev/zero"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.exit_code == 1
    assert result.output.strip() == "vnnews: /dev/zero: larger than 1000000 bytes (fetch.max_bytes)"
    assert peak < 10_000_000
    # without a config (no sources.toml here, none named): the default cap (10 MB)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VNNEWS_CONFIG", raising=False)
    result = CliRunner().invoke(cli, ["extract", "/dev/zero"])
    assert result.exit_code == 1 and "larger than 10000000 bytes" in result.output
