"""Any input gives an Article or an ExtractError: empty, garbage, huge, deeply nested, broken,
mis-declared or legacy-encoded, NFD. No timing assertions (speed is measured in bench/)."""

from __future__ import annotations

import signal
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.errors import ExtractError
from scraper.extract import extract_article, extract_generic
from scraper.types import Article
from tests.support.paths import REAL

URL = "https://example.vn/bai-viet-1.html"
SENTENCE = "Sở Lao động - Thương binh và Xã hội tổ chức hội nghị tổng kết công tác năm 2023, "


def _ok_or_extract_error(data: bytes | str) -> Article | None:
    try:
        article = extract_article(data, URL)
    except ExtractError as exc:
        assert exc.url == URL
        return None
    assert isinstance(article, Article)
    assert unicodedata.is_normalized("NFC", article.text)
    return article


@pytest.mark.parametrize("data", [b"", b"   \n", "", b"\x00\x01\x02\xff" * 100, "just some words"])
def test_not_html_raises_extract_error(data: bytes | str) -> None:
    with pytest.raises(ExtractError):
        extract_article(data, URL)


FEEDS = sorted(REAL.glob("*/*.xml"))


@pytest.mark.parametrize("path", FEEDS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_feed_or_sitemap_is_named_as_such(path: Path) -> None:
    """The real feeds (one in UTF-16) and sitemaps: 'not an HTML document', naming what the
    file is and where it belongs, not 'too little body text'."""
    is_sitemap = "sitemap" in path.name
    with pytest.raises(ExtractError, match="sitemaps" if is_sitemap else "feeds") as caught:
        extract_article(path.read_bytes(), URL)
    assert str(caught.value).startswith("not an HTML document: a ")


def test_the_feeds_and_sitemaps_are_there() -> None:
    assert len(FEEDS) == 4


def test_an_rss_091_feed_with_a_doctype_is_named_too() -> None:
    feed = (
        '\ufeff<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS '
        '0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        "<rss version='0.91'><channel><title>Tin mới</title></channel></rss>"
    ).encode()
    with pytest.raises(ExtractError, match=r"a feed \(<rss>\)"):
        extract_article(feed, URL)


def test_xhtml_with_an_xml_declaration_is_html() -> None:
    page = (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>'
        f"<html xmlns='http://www.w3.org/1999/xhtml'><body><article><p>{SENTENCE * 3}</p>"
        "</article></body></html>"
    )
    assert SENTENCE.strip() in extract_article(page, URL).text


def test_a_page_opening_with_many_comments_is_read_at_once() -> None:
    """Plugins' comments before <!DOCTYPE>: the feed-or-page check once tried every way to
    split them (2^n: 20 comments took a second, 60 would take centuries). The alarm only turns
    such a hang into a failure; nothing here is timed."""
    page = (REAL / "vnexpress.net" / "meth04-article.html").read_bytes()
    commented = b"<!-- cache: hit -->\n" * 60 + page
    previous = signal.signal(signal.SIGALRM, _hung)
    signal.alarm(60)
    try:
        article = extract_article(commented, URL)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert article.text == extract_article(page, URL).text != ""


def _hung(signum: int, frame: object) -> None:
    raise AssertionError("extraction hung on leading comments")


def test_page_without_body_gives_empty_text() -> None:
    article = extract_article(
        "<html><head><title>Trang chủ</title></head><body></body></html>", URL
    )
    assert article.text == ""
    assert article.published_at is None


def test_deep_nesting() -> None:
    html = "<div>" * 10_000 + f"<p>{SENTENCE * 3}</p>" + "</div>" * 10_000
    article = extract_generic(html, URL)
    assert SENTENCE.strip() in article.text


def test_five_megabytes() -> None:
    count = 5_000_000 // (len(SENTENCE) * 4 + 20)
    paras = "".join(f"<p>{i}. {SENTENCE * 4}</p>" for i in range(count))
    html = "<html><body><article>" + paras + "</article></body></html>"
    article = extract_generic(html, URL)
    assert article.text.count(SENTENCE.strip()) > 1000


def test_broken_tags() -> None:
    html = f"<html><body><div><p>{SENTENCE * 3}<p><b>{SENTENCE * 2}</i></div></span><table><td>x"
    article = extract_generic(html, URL)
    assert "Sở Lao động" in article.text


def _cp1258(text: str) -> bytes:
    """Encode as windows-1258 does: vowel letters precomposed, tone marks combining."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", ch)
            tones = [m for m in marks if m in "\u0300\u0301\u0303\u0309\u0323"]
            rest = "".join(m for m in marks if m not in tones)
            letter = unicodedata.normalize("NFC", base + rest)
            out += letter.encode("cp1258") + "".join(tones).encode("cp1258")
    return bytes(out)


def test_windows_1258_bytes_become_nfc() -> None:
    text = (
        f"<html><head><meta charset='windows-1258'></head><body><p>{SENTENCE * 3}</p></body></html>"
    )
    data = _cp1258(text)
    article = extract_generic(data, URL)
    assert "Thương binh và Xã hội" in article.text
    assert unicodedata.is_normalized("NFC", article.text)


def test_wrong_declared_encoding_utf8_wins() -> None:
    text = (
        f"<html><head><meta charset='iso-8859-1'></head><body><p>{SENTENCE * 3}</p></body></html>"
    )
    article = extract_generic(text.encode("utf-8"), URL)
    assert "Thương binh và Xã hội" in article.text


def test_nfd_text_becomes_nfc() -> None:
    text = unicodedata.normalize(
        "NFD", f"<html><body><h1>Tiêu đề bài</h1><p>{SENTENCE * 3}</p></body></html>"
    )
    for data in (text, text.encode("utf-8")):
        article = extract_generic(data, URL)
        assert "Thương binh và Xã hội" in article.text
        assert article.title == "Tiêu đề bài"


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes(data: bytes) -> None:
    _ok_or_extract_error(data)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=2000))
def test_any_text(data: str) -> None:
    _ok_or_extract_error(data)


_TAGS = st.sampled_from(
    [
        "p",
        "div",
        "span",
        "a",
        "h1",
        "h2",
        "li",
        "ul",
        "table",
        "td",
        "figure",
        "figcaption",
        "br",
        "img",
        "script",
        "article",
        "time",
        "meta",
    ]
)


@st.composite
def html_soup(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 60))):
        tag = draw(_TAGS)
        kind = draw(st.integers(0, 3))
        if kind == 0:
            parts.append(
                f"<{tag} class='{draw(st.sampled_from(['sapo', 'date', 'share', 'content', '']))}'>"
            )
        elif kind == 1:
            parts.append(f"</{tag}>")
        else:
            parts.append(draw(st.text(max_size=80)))
    return "<html><body>" + "".join(parts)


@settings(max_examples=80, deadline=None)
@given(html_soup())
def test_any_tag_soup(html: str) -> None:
    _ok_or_extract_error(html)


def test_json_ld_garbage_is_ignored() -> None:
    html = (
        '<html><head><script type="application/ld+json">{"@type": "NewsArticle", "datePublished": </script>'
        f"</head><body><p>{SENTENCE * 3}</p></body></html>"
    )
    article = extract_generic(html, URL)
    assert article.published_at is None
