"""Bylines at the end of a body, and author names from metadata."""

from __future__ import annotations

import pytest

from scraper.extract import extract_generic
from scraper.extract.bylines import clean_author, parse_byline, parse_byline_credits, split_authors
from tests.support.paths import REAL

URL = "https://example.vn/bai-123.html"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("KHÁNH CHI", ["KHÁNH CHI"]),
        ("Trần Cường, Hải Yến", ["Trần Cường", "Hải Yến"]),
        ("Hữu Lương – Ngọc Ánh", ["Hữu Lương", "Ngọc Ánh"]),
        ("Tin, ảnh: P.Y", ["P.Y"]),
        ("Hà Thu (tổng hợp)", ["Hà Thu"]),
        ("NHẬT XUÂN - NGHI VŨ", ["NHẬT XUÂN", "NGHI VŨ"]),
        ("Bài, ảnh: Minh Anh", ["Minh Anh"]),
    ],
)
def test_bylines(text: str, names: list[str]) -> None:
    assert parse_byline(text) == names


@pytest.mark.parametrize(
    "text",
    [
        "Hỗ trợ doanh nghiệp",
        "Đồng USD duy trì đà tăng",
        "Zalo",
        "Dịp này, các tập thể, cá nhân đã được khen thưởng.",
        "Năm 2024 Ngành Lao Động",
        "Nguồn tin: Báo Bình Phước",
    ],
)
def test_not_bylines(text: str) -> None:
    assert parse_byline(text) is None


def test_clean_author_rejects_sites_and_urls() -> None:
    assert clean_author("baochinhphu.vn") is None
    assert clean_author("https://www.facebook.com/vtcnewsvn/") is None
    assert clean_author("VietNamNet News") is None
    assert clean_author("Theo Hồ Hương") == "Hồ Hương"
    assert clean_author("Dân Trí", site_words=frozenset({"dân trí"})) is None


def test_split_authors() -> None:
    assert split_authors("NHẬT XUÂN;NGHI VŨ") == ["NHẬT XUÂN", "NGHI VŨ"]
    assert split_authors("Minh Chiến") == ["Minh Chiến"]


def _page_with_authors(jsonld_author: str, byline: str) -> str:
    body = "".join(
        f"<p>{i}. Nội dung bài viết đủ dài để được chọn làm thân bài, có dấu phẩy, có câu.</p>"
        for i in range(6)
    )
    return (
        '<html><head><script type="application/ld+json">{"@type":"NewsArticle",'
        f'"author":{{"@type":"Person","name":"{jsonld_author}"}}}}</script></head>'
        f"<body><h1>Tiêu đề bài viết mẫu</h1><div>{body}<p>{byline}</p></div></body></html>"
    )


def test_byline_beats_a_longer_jsonld_form_of_the_same_name() -> None:
    article = extract_generic(_page_with_authors("Lương Văn Ý", "Lương Ý"), URL)
    assert article.authors == ["Lương Ý"]


def test_different_people_from_jsonld_and_byline_are_both_kept() -> None:
    article = extract_generic(_page_with_authors("Trần Cường", "Hải Yến"), URL)
    assert article.authors == ["Trần Cường", "Hải Yến"]


def test_vtcnews_generic_mode_gives_the_byline_once() -> None:
    html = (REAL / "vtcnews.vn" / "article-sample.html").read_bytes()
    assert extract_generic(html, "https://example.org/x.html").authors == ["Lương Ý"]


@pytest.mark.parametrize(
    ("text", "authors", "photos"),
    [
        ("Tin: Tường Minh - Ảnh: Đỗ Hiền", ["Tường Minh"], ["Đỗ Hiền"]),
        ("Bài, ảnh: Lê Minh", ["Lê Minh"], ["Lê Minh"]),
        ("Hữu Lương – Ngọc Ánh", ["Hữu Lương", "Ngọc Ánh"], []),
        ("Trần Cường - Video: Hải Yến", ["Trần Cường"], ["Hải Yến"]),
    ],
)
def test_byline_credits_keep_photo_credits_apart(
    text: str, authors: list[str], photos: list[str]
) -> None:
    assert parse_byline_credits(text) == (authors, photos)


def test_a_sentence_is_no_byline_credit() -> None:
    assert parse_byline_credits("Ảnh: các đại biểu dự hội nghị tổng kết năm 2023.") is None
