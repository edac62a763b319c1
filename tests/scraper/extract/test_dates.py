"""Dates: visible Vietnamese text, metadata order of trust, published kept apart from updated."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scraper.extract import extract_generic
from scraper.extract.textdates import is_date_line, labeled_dates, parse_vn_datetime

URL = "https://example.vn/bai-123.html"
BODY = (
    "<p>" + "Nội dung bài viết đủ dài để được chọn làm thân bài, có dấu phẩy, có câu. " * 4 + "</p>"
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thứ năm - 01/02/2024 11:12", utc(2024, 2, 1, 4, 12)),
        ("Thứ ba, 23/12/2025 09:02 (GMT+7)", utc(2025, 12, 23, 2, 2)),
        ("Đăng ngày 26/12/2023", utc(2023, 12, 25, 17, 0)),
        ("Cập nhật: 11:12, 01/02/2024", utc(2024, 2, 1, 4, 12)),
        ("08/01/2026 - 18:21", utc(2026, 1, 8, 11, 21)),
        ("ngày 1 tháng 2 năm 2024", utc(2024, 1, 31, 17, 0)),
        ("07-03-2026 - 09:40 PM", utc(2026, 3, 7, 14, 40)),
        ("Thứ Tư, 24/12/2025 09:30:00 +07:00", utc(2025, 12, 24, 2, 30)),
        ("07/03/2026 08:52 (GMT+07:00)", utc(2026, 3, 7, 1, 52)),
        ("11h12 ngày 1/2/2024", utc(2024, 2, 1, 4, 12)),
        ("2026-03-07 08:07", utc(2026, 3, 7, 1, 7)),
        ("Chiều 6/1", None),
        ("31/02/2024", None),
        ("không có ngày tháng", None),
        ("", None),
    ],
)
def test_parse_vn_datetime(text: str, expected: datetime | None) -> None:
    assert parse_vn_datetime(text) == expected


def test_date_without_year_uses_given_year_only() -> None:
    assert parse_vn_datetime("Chiều 6/1") is None
    assert parse_vn_datetime("Chiều 6/1", year=2025) == utc(2025, 1, 5, 17, 0)


def test_day_comes_first() -> None:
    assert parse_vn_datetime("05/04/2024") == utc(2024, 4, 4, 17, 0)


def test_labeled_dates_keep_published_and_updated_apart() -> None:
    pub, upd = labeled_dates("Đăng ngày 01/02/2024 08:00 | Cập nhật: 11:12, 02/02/2024")
    assert pub == utc(2024, 2, 1, 1, 0)
    assert upd == utc(2024, 2, 2, 4, 12)


def test_is_date_line() -> None:
    assert is_date_line("Thứ năm - 01/02/2024 11:12 265")
    assert not is_date_line("Quy định trên có hiệu lực từ ngày 1/3/2026.")


def _page(head: str, body: str = "") -> str:
    return f"<html><head>{head}</head><body><h1>Tiêu đề bài viết mẫu</h1>{body}{BODY}</body></html>"


def test_jsonld_beats_meta() -> None:
    head = (
        '<script type="application/ld+json">{"@type":"NewsArticle","datePublished":'
        '"2024-02-01T11:12:00+07:00","dateModified":"2024-02-02T08:00:00+07:00"}</script>'
        '<meta property="article:published_time" content="2020-01-01T00:00:00+07:00">'
    )
    article = extract_generic(_page(head), URL)
    assert article.published_at == utc(2024, 2, 1, 4, 12)
    assert article.updated_at == utc(2024, 2, 2, 1, 0)


def test_epoch_meta() -> None:
    article = extract_generic(_page('<meta name="its_publication" content="1761135952">'), URL)
    assert article.published_at == datetime.fromtimestamp(1761135952, UTC)


def test_meta_without_zone_is_vietnam_time() -> None:
    head = '<meta property="article:published_time" content="2026-03-07T00:01:00">'
    assert extract_generic(_page(head), URL).published_at == utc(2026, 3, 6, 17, 1)


def test_time_element() -> None:
    body = '<time datetime="2026-03-07T08:06:00+07:00">07/03/2026</time>'
    assert extract_generic(_page("", body), URL).published_at == utc(2026, 3, 7, 1, 6)


def test_visible_dateline_is_the_last_resort_and_not_text() -> None:
    body = '<div class="date">Thứ năm - 01/02/2024 11:12</div>'
    article = extract_generic(_page("", body), URL)
    assert article.published_at == utc(2024, 2, 1, 4, 12)
    assert "01/02/2024" not in article.text


def test_no_date_stays_none() -> None:
    article = extract_generic(_page(""), URL)
    assert article.published_at is None
    assert article.updated_at is None


def test_dateline_without_year_takes_the_year_of_the_pages_update_time() -> None:
    head = '<meta property="article:modified_time" content="2025-01-06T18:00:00+07:00">'
    body = '<div class="date">Chiều 6/1</div>'
    article = extract_generic(_page(head, body), URL)
    assert article.published_at == utc(2025, 1, 5, 17, 0)


def test_dateline_without_year_takes_the_year_of_a_url_date() -> None:
    body = '<div class="date">Chiều 6/1, 14:30</div>'
    article = extract_generic(_page("", body), "https://example.vn/2024/01/06/bai-123.html")
    assert article.published_at == utc(2024, 1, 6, 7, 30)


def test_dateline_without_year_and_no_context_stays_none() -> None:
    body = '<div class="date">Chiều 6/1</div>'
    assert extract_generic(_page("", body), URL).published_at is None
