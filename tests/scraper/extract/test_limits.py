"""The pre-parse guard (issue 15): a page nested 100,000 deep took 16-30 s to parse and held the
event loop; ``check_html`` refuses it in a linear scan, and every parser of untrusted HTML
(article extraction, listing/feed discovery, profile inference) calls it first."""

from __future__ import annotations

import time

import pytest

from scraper.discover.feeds import parse_feed
from scraper.discover.listings import extract_links
from scraper.errors import ExtractError, HtmlTooComplexError
from scraper.extract import extract_article
from scraper.extract.limits import MAX_DEPTH, MAX_HTML_BYTES, check_html, nesting_depth
from scraper.profiles.infer import guess_selectors
from tests.support.paths import REAL

DEEP = "<html><body>" + "<div>" * 100_000 + "x" + "</div>" * 100_000 + "</body></html>"


def test_real_pages_are_far_below_the_limits() -> None:
    pages = sorted(REAL.rglob("*.htm*"))
    assert pages
    for page in pages:
        data = page.read_bytes()
        check_html(data)
        assert nesting_depth(data) < 100, page


@pytest.mark.parametrize(
    ("html", "depth"),
    [
        ("<div><div><span>x</span></div></div>", 3),
        ("<p>a<p>b<p>c", 0),  # end tag optional: the parser closes each <p>
        ("<ul>" + "<li>x" * 1000 + "</ul>", 1),
        ("<br><img src=x><meta charset=utf-8>", 0),
        ("<svg>" + '<path d="M0"/>' * 1000 + "</svg>", 1),  # self-closing in SVG
        ("<div/>" * 10, 10),  # not self-closing in HTML
        ("<script>" + "<div>" * 1000 + "</script><div></div>", 1),
        ("<!--" + "<div>" * 1000 + "--><div></div>", 1),
        ("<div class='a>b'><div>", 2),
    ],
)
def test_nesting_depth_estimate(html: str, depth: int) -> None:
    assert nesting_depth(html.encode()) == depth


@pytest.mark.parametrize(
    "html", [DEEP, DEEP.encode(), "<div/>" * (MAX_DEPTH + 1), "<font>" * 300_000]
)
def test_deep_html_is_refused_quickly(html: str | bytes) -> None:
    start = time.monotonic()
    with pytest.raises(HtmlTooComplexError, match=f"nested deeper than {MAX_DEPTH} levels"):
        check_html(html)
    assert time.monotonic() - start < 1


def test_a_page_over_the_size_cap_is_refused() -> None:
    with pytest.raises(HtmlTooComplexError, match="page larger than"):
        check_html(b" " * (MAX_HTML_BYTES + 1))


def test_extract_article_refuses_deep_html_in_bounded_time() -> None:
    start = time.monotonic()
    with pytest.raises(ExtractError, match="nested deeper") as err:
        extract_article(DEEP, "https://baomoi.test/a.html")
    assert time.monotonic() - start < 1
    assert err.value.url == "https://baomoi.test/a.html"


def test_listing_and_profile_parsers_refuse_deep_html() -> None:
    start = time.monotonic()
    with pytest.raises(HtmlTooComplexError):
        extract_links(DEEP, "https://baomoi.test/")
    with pytest.raises(HtmlTooComplexError):
        guess_selectors([DEEP])
    assert time.monotonic() - start < 2


def test_a_deep_feed_summary_is_dropped_not_parsed() -> None:
    description = DEEP.replace("<", "&lt;").replace(">", "&gt;")
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><item><title>t</title>'
        f"<link>https://baomoi.test/a.html</link><description>{description}</description>"
        "</item></channel></rss>"
    ).encode()
    start = time.monotonic()
    items = parse_feed(feed, "https://baomoi.test/rss.xml")
    assert time.monotonic() - start < 2
    assert [i.url for i in items] == ["https://baomoi.test/a.html"]
    assert items[0].summary is None
