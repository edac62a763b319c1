"""Bylines at the end of a body, and author names from metadata."""

from __future__ import annotations

import pytest

from scraper.extract.bylines import clean_author, parse_byline, split_authors


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
