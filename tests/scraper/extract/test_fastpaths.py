"""The extractor's fast paths give the answers of the slow ones they replaced.

Each speed-up (bench/extract.py, issue #3) is checked against its plain reference on the real
pages in tests/fixtures/real/: the chunked UTF-8 check against ``bytes.decode``, the Python
widget-name test against lexbor's ``[class*=...]`` selector list, ``clean_inline``'s quick
exits against ``collapse_ws(clean_text(...))``. Plus the one deliberate change: the sapo is
looked for near the h1 first.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from scraper.charset import UTF8_CHUNK as _UTF8_CHUNK
from scraper.charset import utf8_composed
from scraper.extract import extract_generic
from scraper.extract.chrome import is_chrome_node
from scraper.extract.generic import _is_chrome_marked
from scraper.vietnamese import clean_inline, clean_text, collapse_ws
from tests.support.paths import REAL

PAGES = sorted(REAL.glob("*/*.html"))
# the selector list the chrome pass used before it moved to Python: the reference it must match
CHROME_CSS = (
    "[class*=share], [class*=social], [class*=comment], [class*=related], [class*=Related], "
    "[class*=relate], [id*=Related], "
    "[class*=rating], [class*=banner], [class*=breadcrumb], [class*=tag], [class*=menu], "
    "[class*=footer], [class*=header], [class*=sidebar], [class*=login], [class*=captcha], "
    "[class*=other-news], [class*=popup], [class*=modal], [class*=ads], [class*=widget], "
    "[id*=share], [id*=comment], [id*=related], [id*=rating], [id*=banner], [id*=menu], "
    "[id*=footer], [id*=header], [id*=sidebar], [id*=ads]"
)


def _ids(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _strict_utf8(raw: bytes) -> bool:
    """The reference of ``utf8_composed``: valid UTF-8 without a combining diacritical mark."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any("\u0300" <= ch <= "\u037f" for ch in text)


def _is_utf8(raw: bytes) -> bool:
    return utf8_composed(raw)


@pytest.mark.parametrize("path", PAGES, ids=_ids)
def test_chunked_utf8_check_agrees_with_decode(path: Path) -> None:
    raw = path.read_bytes()
    assert _is_utf8(raw) is _strict_utf8(raw)  # some real pages hold decomposed letters
    # a broken sequence just before, at and after every chunk boundary, and a truncated emoji
    cuts = [raw.find(b"<", k * _UTF8_CHUNK) for k in range(1, len(raw) // _UTF8_CHUNK + 1)]
    for cut in [c for c in cuts if c > 0][:8]:
        for at in (cut - 1, cut, cut + 1):
            for bad in (b"\xff", b"\xc3", b"\xe1\xba", b"\xf0\x9f\x98"):
                broken = raw[:at] + bad + raw[at:]
                assert _is_utf8(broken) is _strict_utf8(broken), (at, bad)


def test_chunked_utf8_check_on_small_inputs() -> None:
    emoji = "😀".encode()
    nfd = unicodedata.normalize("NFD", "Hà Nội").encode()
    for raw in (
        b"", b"<p>x</p>", emoji, emoji[:3], b"a" * 40_000 + emoji + b"<" * 40_000,
        nfd, b"<p>" * 10_000 + nfd, "Hà Nội".encode(),
    ):  # fmt: skip
        assert _is_utf8(raw) is _strict_utf8(raw), raw[-20:]


def _once(ids: list[int]) -> list[int]:
    return list(dict.fromkeys(ids))


def _chrome_by_css(root: LexborHTMLParser) -> list[int]:
    """Document order; lexbor lists an element once per alternative it matches: once here."""
    body = root.body
    assert body is not None
    return _once(
        [
            n.mem_id
            for n in body.css(CHROME_CSS)
            if n.tag not in ("html", "body")
            and is_chrome_node(f"{n.attributes.get('class') or ''} {n.attributes.get('id') or ''}")
        ]
    )


def _chrome_by_python(root: LexborHTMLParser) -> list[int]:
    body = root.body
    assert body is not None
    return _once(
        [
            n.mem_id
            for n in body.css("[class], [id]")
            if n.tag not in ("html", "body")
            and _is_chrome_marked(n.attrs.get("class") or "", n.id or "")
        ]
    )


@pytest.mark.parametrize("path", PAGES, ids=_ids)
def test_chrome_names_match_the_selector_list(path: Path) -> None:
    tree = LexborHTMLParser(path.read_bytes())
    expected = _chrome_by_css(tree)
    assert expected, "every real page has some named widget"
    assert _chrome_by_python(tree) == expected


@pytest.mark.parametrize("doctype", ["<!DOCTYPE html>", ""])  # standards and quirks mode
def test_chrome_names_are_case_sensitive_like_lexbor(doctype: str) -> None:
    tree = LexborHTMLParser(
        f"{doctype}<html><body><div class='Share-box'>a</div><div class='share-box'>b</div>"
        "<div id='MENU-top'>c</div><div id='menu-top'>d</div><p class='x tags'>e</p></body></html>"
    )
    expected = _chrome_by_css(tree)
    assert len(expected) == 3
    assert _chrome_by_python(tree) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Hà\u00a0Nội ngày\u202fmới",
        "\u3000Tin\u2009tức\u2000\u200aviệt ",
        "a\u1680b\u205fc",
        "Tiêu\u200bđề\u00adcó\ufeffký\u2060tự\u200cẩn\u200d",
        "ascii  only\u00a0",
        unicodedata.normalize("NFD", " Hoà\u00a0bình\u200b  thuỷ "),
        "tab\tand\x1fseparators\x1c ",
    ],
)
def test_clean_inline_quick_exits_match_the_plain_passes(text: str) -> None:
    assert clean_inline(text) == collapse_ws(clean_text(text))


@pytest.mark.parametrize("path", PAGES, ids=_ids)
def test_clean_inline_on_real_text(path: Path) -> None:
    tree = LexborHTMLParser(path.read_bytes().decode("utf-8", "replace"))
    texts = [node.text(deep=True) for node in tree.css("p, h1, h2, li, figcaption, td, span")]
    assert texts
    for text in texts:
        assert clean_inline(text) == collapse_ws(clean_text(text))


TEASER = "Một đoạn giới thiệu khác ở cột bên, dài hơn ba mươi ký tự để được tính là mô tả."
SAPO = "Sáng 31-1, Sở Lao động - Thương binh và Xã hội tổ chức hội nghị tổng kết công tác năm."
PARA = (
    "Năm 2023, với sự quan tâm của lãnh đạo tỉnh, sự hỗ trợ của các ngành liên quan, ngành lao "
    "động - thương binh và xã hội tỉnh đã cơ bản thực hiện hoàn thành các nhiệm vụ trọng tâm."
)


def _page(headline: str) -> str:
    return (
        "<html><body><div class='top'><div class='box'><p class='desc'>"
        f"{TEASER}</p></div></div><div class='main'><div class='head'>{headline}"
        f"<h2 class='sapo'>{SAPO}</h2></div><div class='content'><p>{PARA}</p><p>{PARA}</p>"
        "</div></div></body></html>"
    )


def test_sapo_beside_the_headline_wins_over_an_earlier_one() -> None:
    article = extract_generic(_page("<h1>Tổng kết công tác năm 2023</h1>"), "https://x.vn/a")
    assert article.sapo == SAPO


def test_sapo_without_a_headline_is_the_first_on_the_page() -> None:
    article = extract_generic(_page(""), "https://x.vn/a")
    assert article.sapo == TEASER


def test_a_decomposed_page_gives_the_article_of_its_composed_text() -> None:
    """Bytes go to lexbor undecoded only when they are NFC already: in NFD a byline or a
    dateline is longer than its limit, and URLs would keep decomposed letters."""
    from scraper.extract import extract_article

    page = (
        '<html><head><link rel="canonical" href="https://baotinh.vn/tin-tức/hà-nội.html">'
        "</head><body><h1>Hội nghị tổng kết công tác năm 2026 của tỉnh</h1>"
        '<div class="author">Nguyễn Thị Hồng Nhường, Trần Văn Đức, Lê Thị Thủy, Phạm Quốc Việt</div>'
        '<div class="date">Thứ Hai, ngày 30 tháng 11 năm 2026, lúc 08 giờ 15 phút</div>'
        '<div class="content"><p>'
        + "Nội dung bài viết về hội nghị tổng kết của tỉnh. " * 12
        + '</p><img src="https://baotinh.vn/ảnh/hồ-gươm.jpg"><p>'
        + "Các đại biểu đã thảo luận về phương hướng nhiệm vụ năm tới. " * 8
        + "</p></div></body></html>"
    )
    url = "https://baotinh.vn/tin-tuc/hoi-nghi.html"
    composed = extract_article(page.encode(), url)
    decomposed = extract_article(unicodedata.normalize("NFD", page).encode(), url)
    assert composed.authors and composed.canonical_url and composed.images
    assert decomposed == composed
