"""``jobs.prepare``: a UTF-8 page goes to the extractor undecoded, and the article is the same.

Decoding a page to NFC text cost about as much as extracting it. The bytes path must give the
same article field for field on every real page, also when the page's text is decomposed (NFD:
some CMSs write Vietnamese that way); a page in another charset is still decoded by its header.
"""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobs.prepare import page_input, prepare
from scraper.charset import composed_utf8, decode_body
from scraper.fetch import FetchResult
from storage.keys import article_keys
from tests.support.paths import REAL

PAGES = sorted(REAL.glob("*/*.html"))
ROOT = Path(__file__).resolve().parents[2]


def _result(body: bytes, content_type: str, url: str = "https://example.vn/a.html") -> FetchResult:
    return FetchResult(
        url=url,
        final_url=url,
        status=200,
        headers={"content-type": content_type},
        body=body,
        fetched_at=datetime(2026, 12, 1, tzinfo=UTC),
        redirects=(),
        elapsed=0.0,
    )


@pytest.mark.parametrize("form", ["as served", "NFD"])
@pytest.mark.parametrize("path", PAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_bytes_path_gives_the_article_the_text_path_gives(path: Path, form: str) -> None:
    raw = path.read_bytes()
    if form == "NFD":
        raw = unicodedata.normalize("NFD", raw.decode("utf-8", "replace")).encode("utf-8")
    result = _result(raw, "text/html; charset=utf-8", f"https://{path.parent.name}/{path.name}")
    # a page with decomposed letters (NFD, or a few as some real pages have) goes as bytes with
    # those letters composed: lengths and URLs are then those of the text path
    marks = any("\u0300" <= ch <= "\u036f" for ch in raw.decode("utf-8", "replace"))
    assert (page_input(result) is raw) is not marks
    assert isinstance(page_input(result), bytes)
    fast = prepare(result, None, None)
    slow = prepare(
        _result(decode_body(raw, result.content_type).encode("utf-8"), "text/html", result.url),
        None,
        None,
    )
    if fast.article is None:
        assert slow.article is None and fast.error == slow.error
        return
    assert slow.article is not None
    assert dataclasses.asdict(fast.article) == dataclasses.asdict(slow.article)
    assert fast.keys == slow.keys == article_keys(fast.article)


def test_a_legacy_charset_is_decoded_by_its_header() -> None:
    # windows-1258 writes the dot below as a combining mark: "Nô" + U+0323 + "i"
    body = "<html><body><h1>Tin</h1><p>Đà, Hà Nô\u0323i</p></body></html>".encode("cp1258")
    result = _result(body, "text/html; charset=windows-1258")
    assert composed_utf8(body, result.content_type) is None
    assert page_input(result) == result.text()
    assert "Đà, Hà Nội" in str(page_input(result))


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"<p>plain ascii</p>", "text/html; charset=iso-8859-1", True),
        ("<p>Việt Nam</p>".encode(), "text/html; charset=iso-8859-1", True),
        (b"\xef\xbb\xbf<p>bom</p>", "text/html", False),
        ("<p>x</p>".encode("utf-16-le"), "text/html; charset=utf-16le", False),
        (b"<p>caf\xe9</p>", "text/html", False),
        # decomposed Vietnamese: valid UTF-8, but decoding composes it
        ("<p>Hà Nội</p>".encode().replace("ộ".encode(), "ộ".encode()), "text/html", True),
        (__import__("unicodedata").normalize("NFD", "<p>Hà Nội</p>").encode(), "text/html", True),
        (b"<p>caf\xe9 \xcc\x81</p>", "text/html", False),  # not UTF-8, with a 0xCC byte
        # ASCII bytes in a charset that is not ASCII-compatible
        (b"<p>\x1b$B$3$s$K$A$O\x1b(B</p>", "text/html; charset=iso-2022-jp", False),
        # UTF-7 is no web encoding (WHATWG): its label is ignored, as browsers ignore it
        (b"<meta charset=utf-7><p>caf+AOk-</p>", "text/html", True),
    ],
)
def test_composed_utf8_is_what_decode_body_gives(
    body: bytes, content_type: str, expected: bool
) -> None:
    composed = composed_utf8(body, content_type)
    assert (composed is not None) is expected
    if composed is not None:
        assert composed.decode("utf-8") == decode_body(body, content_type)
        # asked again (prepare, then extract_article): the same answer, and composed bytes
        # are their own answer
        assert composed_utf8(body, content_type) == composed
        assert composed_utf8(composed, None) == composed
    else:
        assert composed_utf8(body, content_type) is None


def test_the_workers_import_no_database_or_http_library() -> None:
    """The pool's forkserver imports ``jobs.prepare`` and each worker unpickles a FetchResult
    and a SiteProfile: with SQLAlchemy and httpx among their imports every crawl paid ~0.6 s
    of CPU more for them (bench/throughput.py)."""
    probe = (
        "import pickle, sys\n"
        "import jobs.prepare\n"
        "pickle.loads(sys.stdin.buffer.read())\n"
        "print(sorted(m for m in ('sqlalchemy', 'httpx', 'httpcore', 'click') if m in sys.modules))\n"
    )
    task = pickle.dumps((_result(b"<p>x</p>", "text/html"), None))
    done = subprocess.run(
        [sys.executable, "-c", probe], input=task, capture_output=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert done.stdout.decode().strip() == "[]"
