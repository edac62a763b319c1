"""A cross-check the generic heuristics were not tuned on: listing and home pages are not articles.

Every real listing page in tests/fixtures/real/ (category pages and the vtcnews home page) must
not come out as an article (``is_article``, the crawler's rule: a stray promo line may survive,
a featured teaser must not pass), in generic mode (under an unknown domain) or with its site
profile. Small synthetic snippets pin the two sides of ``is_listing`` and of a lone teaser.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scraper.errors import ExtractError
from scraper.extract import extract_article, extract_generic, is_article
from tests.support.paths import REAL

LISTINGS = sorted(p for p in REAL.glob("*/*.html") if "list" in p.name or p.name == "home.html")
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
    assert not is_article(article), article.text[:500]


def test_a_teaser_description_in_a_listing_is_no_lead() -> None:
    # vnexpress' section page: each teaser is <article><h3><a>..</a></h3><p class="description">
    # <a>..</a></p>; the first teaser's summary (all link) was taken as the page's sapo
    html = (REAL / "vnexpress.net" / "meth04-list.html").read_bytes()
    assert extract_generic(html, "https://example.org/chuyen-muc.html").sapo is None


@pytest.mark.parametrize("path", LISTINGS, ids=_ids)
def test_profile_mode_finds_no_article_in_a_listing(path: Path) -> None:
    try:
        article = extract_article(path.read_bytes(), f"https://{path.parent.name}/chuyen-muc")
    except ExtractError:
        return
    assert not is_article(article), article.text[:500]


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


def test_a_section_page_showing_one_featured_teaser_is_no_article() -> None:
    """tuoitre.vn's section pages load all teasers but the first by script: one headline link
    and its summary are no article (the real page is in LISTINGS)."""
    summary = (
        "Xung đột ở khu vực Trung Đông khiến các shop hoa ghi nhận tình trạng hoa nhập khẩu "
        "khan hiếm, tăng giá do chi phí vận chuyển trong dịp lễ 8-3 năm nay."
    )
    box = (
        "<div class='box'><div class='content'><h2><a href='/chien-su-day-gia-123.htm'>"
        f"Chiến sự đẩy giá hoa nhập khẩu dịp 8-3 tăng mạnh</a></h2><p>{summary}</p></div></div>"
    )
    html = f"<html><body><h1>Kinh doanh</h1>{box}</body></html>"
    assert not is_article(extract_generic(html, "https://example.org/kinh-doanh.htm"))


def test_a_short_article_beside_related_headlines_is_an_article() -> None:
    """A brief of two sentences stays an article: its title is its <h1>, and the related
    headlines are outside its body."""
    first = "Sở Lao động tỉnh tổ chức hội nghị tổng kết công tác năm 2023 tại thành phố."
    second = "Hội nghị đề ra phương hướng cho năm 2024 với nhiều chỉ tiêu mới về việc làm."
    related = "".join(
        f"<li><h3><a href='/bai-{i}.html'>Tiêu đề bài viết liên quan số {i} khá dài</a></h3></li>"
        for i in range(3)
    )
    html = (
        "<html><body><div class='main'><h1>Hội nghị tổng kết năm</h1>"
        f"<div class='detail'><p>{first}</p><p>{second}</p></div>"
        f"<ul class='list'>{related}</ul></div></body></html>"
    )
    article = extract_generic(html, "https://example.org/hoi-nghi.html")
    assert is_article(article) and article.text == f"{first}\n\n{second}"


BRIEF = (
    "Sở Lao động tỉnh tổ chức hội nghị tổng kết công tác năm 2023 tại thành phố, với sự tham "
    "dự của lãnh đạo các sở, ngành và đại diện doanh nghiệp trên địa bàn. Hội nghị đề ra "
    "phương hướng cho năm 2024 với nhiều chỉ tiêu mới về việc làm và đào tạo nghề."
)


def test_a_one_paragraph_brief_in_a_column_with_related_headlines_is_an_article() -> None:
    related = "".join(
        f"<li><h3><a href='/bai-{i}.html'>Tiêu đề bài viết liên quan số {i} khá dài</a></h3></li>"
        for i in range(3)
    )
    html = (
        f"<html><body><div class='main'><h1>Hội nghị tổng kết năm</h1><p>{BRIEF}</p>"
        f"<ul>{related}</ul></div></body></html>"
    )
    article = extract_generic(html, "https://example.org/hoi-nghi.html")
    assert is_article(article) and article.text == BRIEF


def test_a_brief_followed_by_one_related_headline_is_an_article() -> None:
    """A teaser reads headline then summary; a brief with a "read also" link reads the other
    way round."""
    more = "<h3><a href='/bai-khac.html'>Xem thêm: Một bài viết khác có tiêu đề khá dài</a></h3>"
    html = (
        "<html><body><h1>Hội nghị tổng kết năm</h1>"
        f"<div class='content'><p>{BRIEF}</p>{more}</div></body></html>"
    )
    article = extract_generic(html, "https://example.org/hoi-nghi.html")
    assert is_article(article) and article.text.startswith(BRIEF)


def test_a_sidebar_teaser_does_not_hide_an_article_of_bare_text() -> None:
    """The first stage scores only paragraphs and finds the sidebar's teaser: that is no body,
    and the next stage (text outside <p>) finds the article."""
    lines = "<br>".join(f"{i}. {BRIEF}" for i in range(6))
    teaser = (
        "<div class='box'><h3><a href='/bai-1.html'>Một bài viết khác có tiêu đề khá dài</a></h3>"
        f"<p>{BRIEF[:150]}</p></div>"
    )
    html = (
        "<html><body><h1>Hội nghị tổng kết năm</h1>"
        f"<div class='col'><span>{lines}</span></div><div class='col2'>{teaser}</div></body></html>"
    )
    article = extract_generic(html, "https://example.org/hoi-nghi.html")
    assert is_article(article) and article.text.count(BRIEF) == 6
