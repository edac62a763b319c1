"""Web input that made a regular expression backtrack quadratically (or worse), each through
the function that reads such input: a run of spaces before junk in a feed date, a Content-Type
header or a dateline; "(theo " repeated in a byline; a list of credit labels without a colon;
a long URL in a log line. The fixed patterns are linear: these inputs take milliseconds (before:
minutes). Nothing is timed: the alarm only turns a hang into a failure."""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator

import pytest

from jobs.logs import JsonFormatter, redact
from scraper import charset
from scraper.charset import decode_body
from scraper.dates import parse_iso8601
from scraper.discover.feeds import parse_feed_date
from scraper.extract import extract_article, textdates
from scraper.extract.bylines import clean_author, parse_byline_credits, split_authors

N = 200_000  # quadratic: minutes before the fix


def _hung(signum: int, frame: object) -> None:
    raise AssertionError("a regular expression backtracked for a minute")


@pytest.fixture(autouse=True)
def _alarm() -> Iterator[None]:
    previous = signal.signal(signal.SIGALRM, _hung)
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_feed_and_sitemap_dates_followed_by_spaces_and_junk() -> None:
    assert parse_iso8601("2020-01-01" + " " * N + "x") is None
    assert parse_feed_date("01/01/2020" + " " * N + "x") is None
    assert parse_feed_date("01/01/2020 10:10" + " " * N + "x") is None
    # still read when well formed
    assert parse_iso8601("2026-09-05T23:48:01+07:00 ") is not None
    assert parse_feed_date("05/09/2026 13:30") is not None


def test_bylines_with_repeated_openers_or_labels() -> None:
    clean_author("(theo " * (N // 6))  # answers, whatever it says
    split_authors("Hà Thu " + "(theo " * (N // 6))
    parse_byline_credits("x: " + "tin, " * (N // 5))
    # the real shapes keep their meaning
    assert clean_author("Minh An (Theo Reuters)") == "Minh An"
    assert parse_byline_credits("Tin: Tường Minh - Ảnh: Đỗ Hiền") == (["Tường Minh"], ["Đỗ Hiền"])


def test_a_content_type_or_meta_charset_padded_with_spaces() -> None:
    body = "Tin mới".encode()
    assert decode_body(body, "text/html; charset=" + " " * N + "!") == "Tin mới"
    # the document scan reads 4 KB; its pattern is linear on any length
    assert charset._META_RE.search(b"<meta charset=" + b" " * N + b"!") is None


def test_a_dateline_padded_with_spaces() -> None:
    assert textdates._WORDS_RE.search("ngày 1 tháng 1" + " " * N + "x") is not None
    page = (
        "<html><head>"
        + "".join(
            f'<meta property="article:published_time" content="ngày 1 tháng 1{" " * 1990}x">'
            for _ in range(30)
        )
        + "</head><body><h1>Tiêu đề</h1><p>"
        + "Nội dung bài viết đủ dài để là một bài báo thật sự. " * 20
        + "</p></body></html>"
    )
    assert extract_article(page, "https://example.vn/bai-1.html").title == "Tiêu đề"


def test_a_long_url_in_a_log_line() -> None:
    url = "https://example.vn/" + "a." * (N // 2)
    assert redact(f"site=x url={url} error=boom") == f"site=x url={url} error=boom"
    record = logging.LogRecord("vnnews", logging.WARNING, __file__, 1, "url=%s", (url,), None)
    assert url in JsonFormatter().format(record)
    assert redact("postgresql://user:secret@host/db") == "postgresql://user:***@host/db"


def test_a_duration_padded_with_spaces_before_junk() -> None:
    # the spaces were tried split every way between the five gaps of "1d 2h 3m 4s" (200 of
    # them: 19 s, a 60 KB sources.toml value: forever)
    from jobs.config import parse_duration

    with pytest.raises(ValueError, match=r"bad duration '    .*\.\.\."):
        parse_duration(" " * N + "30x")
    with pytest.raises(ValueError, match=r"bad duration '1111.*\.\.\."):
        parse_duration("1" * N + "x")
    assert parse_duration(" 1d 2h 3m 4.5s ") == 93784.5
