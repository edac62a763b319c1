"""Notice or edit? The pure tests that keep a merger notice from overwriting an archived story."""

from __future__ import annotations

import pytest

from scraper.notices import MAX_NOTICE_CHARS, looks_like_notice, not_an_edit

STORY = "\n\n".join(
    f"Đoạn {i}: UBND tỉnh Yên Bái tổ chức hội nghị tổng kết công tác năm với nhiều nội dung mới."
    for i in range(30)
)


@pytest.mark.parametrize(
    "text",
    [
        "Báo Yên Bái đã sáp nhập vào Báo Lào Cai từ ngày 1/7/2025.",
        "Trang thông tin đã ngừng hoạt động. Vui lòng truy cập địa chỉ mới.",
        "Bao Yen Bai da sap nhap vao Bao Lao Cai.",  # typed without diacritics
        "Xin lỗi, trang không tồn tại.",
        "TRANG KHÔNG TỒN TẠI",
    ],
)
def test_notices_are_recognised(text: str) -> None:
    assert looks_like_notice("Thông báo", text)


def test_a_long_article_about_a_merger_is_not_a_notice() -> None:
    text = "Báo Yên Bái đã sáp nhập vào Báo Lào Cai. " + STORY
    assert len(text) > MAX_NOTICE_CHARS
    assert looks_like_notice("Hai tờ báo sáp nhập", text) is None
    assert looks_like_notice("Tin tức", "Một bài ngắn về giá lúa hôm nay.") is None


def test_edits_are_edits() -> None:
    fixed = STORY.replace("Đoạn 3:", "Đoạn 3 (sửa):")
    assert not_an_edit("Hội nghị", STORY, "Hội nghị", fixed) is None
    shortened = "\n\n".join(STORY.split("\n\n")[:10])  # a third kept: trimmed, still the story
    assert not_an_edit("Hội nghị", STORY, "Hội nghị tổng kết", shortened) is None
    rewritten = " ".join(f"Câu {i} viết lại hoàn toàn về hội nghị." for i in range(80))
    assert not_an_edit("Hội nghị tổng kết", STORY, "Hội nghị tổng kết năm", rewritten) is None


def test_placeholders_are_not_edits() -> None:
    assert not_an_edit("Hội nghị", STORY, "Thông báo", "Báo đã sáp nhập vào Báo Lào Cai.")
    # much shorter and sharing nothing: an empty template, a cookie banner
    assert not_an_edit("Hội nghị", STORY, "Hội nghị", "Đăng nhập để xem nội dung.")
    # as long, but another story with another title: the URL now serves another page
    other = "\n\n".join(f"Giá cà phê hôm nay tăng mạnh ở Tây Nguyên, phiên {i}." for i in range(60))
    assert not_an_edit("Hội nghị tổng kết", STORY, "Giá cà phê tăng", other)
