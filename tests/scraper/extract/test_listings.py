"""A cross-check the generic heuristics were not tuned on: listing and home pages are not articles.

Every real listing page in tests/fixtures/real/ (category pages and the vtcnews home page) must
not come out as a long article body, in generic mode (under an unknown domain) or with its
site profile. Small synthetic snippets pin the two sides of ``is_listing``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scraper.errors import ExtractError
from scraper.extract import extract_article, extract_generic
from tests.support.paths import REAL

LISTINGS = sorted(p for p in REAL.glob("*/*.html") if "list" in p.name or p.name == "home.html")
MAX_CHARS = 300  # a stray promo line may survive; a page of teasers must not
SENTENCE = "Sở Lao động - Thương binh và Xã hội tổ chức hội nghị tổng kết công tác năm 2023, "


def _ids(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_the_listing_pages_are_there() -> None:
    assert len(LISTINGS) == 10


@pytest.mark.parametrize("path", LISTINGS, ids=_ids)
def test_generic_mode_finds_no_article_in_a_listing(path: Path) -> None:
    try:
        article = extract_generic(path.read_bytes(), "https://example.org/chuyen-muc.html")
    except ExtractError:
        return
    assert len(article.text) <= MAX_CHARS, article.text[:500]


@pytest.mark.parametrize("path", LISTINGS, ids=_ids)
def test_profile_mode_finds_no_article_in_a_listing(path: Path) -> None:
    try:
        article = extract_article(path.read_bytes(), f"https://{path.parent.name}/chuyen-muc")
    except ExtractError:
        return
    assert len(article.text) <= MAX_CHARS, article.text[:500]


def _teaser(i: int) -> str:
    return (
        f"<div class='item'><h3><a href='/bai-{i}.html'>Tiêu đề bài viết số {i} về hội nghị</a>"
        f"</h3><div class='right'><p>{SENTENCE * 2}</p></div></div>"
    )


def test_synthetic_teaser_list_is_a_listing() -> None:
    html = (
        "<html><body><section>" + "".join(_teaser(i) for i in range(8)) + "</section></body></html>"
    )
    assert extract_generic(html, "https://example.org/").text == ""


def test_paragraphs_in_bare_wrappers_are_an_article() -> None:
    # vtcnews-style: each paragraph in its own div, and one headline link inside the body
    paras = "".join(f"<div><p>{i}. {SENTENCE * 2}</p></div>" for i in range(8))
    link = "<p>Xem: <a href='/khac.html'>Một bài viết khác có tiêu đề khá dài</a></p>"
    html = f"<html><body><article>{paras}{link}</article></body></html>"
    text = extract_generic(html, "https://example.org/").text
    assert text.count(SENTENCE.strip()) == 16


def test_article_with_a_related_link_beside_its_paragraphs_is_an_article() -> None:
    paras = "".join(f"<p>{i}. {SENTENCE * 2}</p>" for i in range(8))
    box = "<div><a href='/khac.html'>Một bài viết khác có tiêu đề khá dài</a></div>"
    html = f"<html><body><div class='main'><div>{paras}{box}</div></div></body></html>"
    text = extract_generic(html, "https://example.org/").text
    assert text.count(SENTENCE.strip()) == 16
