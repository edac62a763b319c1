"""Datasette (the real one, in a subprocess on a loopback port, started by ``vnnews ui``) on a
crawled archive: the search box finds "da nang" → Đà Nẵng, JSON is readable Vietnamese, and a
page's raw HTML is one link away."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from storage.search import search_key
from tests.support.archive_site import crawl_archive
from tests.support.mirror import MirrorSite, dead_port
from tests.support.paths import ROOT


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.read()


def test_datasette_search_box_json_and_raw_html(
    sqlite_url: str, tmp_path: Path, mirrors: tuple[MirrorSite, MirrorSite]
) -> None:
    vnx, tt = mirrors
    config = crawl_archive(sqlite_url, tmp_path, vnx, tt)
    port = dead_port()  # a free loopback port
    proc = subprocess.Popen(
        # a plain path, as a user types it (--db takes one for every command, ui too)
        [sys.executable, "-c", "from jobs.cli import main; main()", "--db",
         sqlite_url.removeprefix("sqlite:///"), "--config", str(config), "ui", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        env={**os.environ, "NO_PROXY": "127.0.0.1"},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/vnnews"
    try:
        for _ in range(200):
            try:
                _get(f"http://127.0.0.1:{port}/-/versions.json")
                break
            except OSError:
                time.sleep(0.1)
        status, body = _get(f"{base}/articles.json?_search=da+nang&_shape=array")
        rows = json.loads(body)
        status_all, body_all = _get(f"{base}/articles.json?_shape=array&_size=max")
        every = json.loads(body_all)
        assert status == status_all == 200
        expected = {
            r["id"] for r in every
            if {"da", "nang"} <= set(search_key(r["title"], r["sapo"], r["text"]).split())
        }  # fmt: skip
        assert 2 <= len(rows) < len(every)
        assert {r["id"] for r in rows} == expected
        assert sum("Đà Nẵng" in r["text"] for r in rows) == 2  # the story and its copy
        # the canned "Search articles" query folds as vnnews search does: đ too (FTS5's own
        # tokenizer strips marks but keeps đ), and a hyphen is no FTS5 syntax
        query = urllib.parse.urlencode({"words": "ĐÀ NẴNG", "_shape": "array"})
        status, found = _get(f"{base}/search_articles.json?{query}")
        assert status == 200
        assert sorted(r["id"] for r in json.loads(found)) == sorted(expected)
        query = urllib.parse.urlencode({"words": "đà-nẵng", "_shape": "array"})
        status, found = _get(f"{base}/search_articles.json?{query}")
        # one term, read as a phrase: the place, not an article with "đã" and "năng" apart
        phrase = {r["id"] for r in json.loads(found)}
        assert status == 200 and len(phrase) >= 2 and phrase <= expected
        # JSON columns hold readable UTF-8 text, not \u escapes
        authors = [r["authors"] for r in every]
        assert '["Hà Thu"]' in authors and all("\\u" not in a for a in authors)
        # the page shows the search box; views exist; raw HTML of an article's page
        _, html = _get(f"{base}/articles")
        assert b'name="_search"' in html
        _, latest = _get(f"{base}/latest_articles.json?_shape=array")
        first = json.loads(latest)[0]
        assert set(first) == {"site", "published", "title", "url", "id"}
        story = next(r for r in rows if "Đà Nẵng" in r["text"])
        _, raw = _get(f"http://127.0.0.1:{port}/-/vnnews/raw/{story['page_id']}")
        assert "Đà Nẵng" in raw.decode("utf-8") and raw.lstrip().startswith(b"<!")
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
