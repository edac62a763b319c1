"""Chrome removal: one test per pattern the seeds show a naive scraper keeping.

The snippets are small synthetic pages modelled on the seed texts in shared/seeds/ (the seeds
are plain text: they show the leftovers, not the markup).
"""

from __future__ import annotations

import pytest

from scraper.extract import extract_generic
from scraper.extract.chrome import is_chrome_text, source_line

URL = "https://example.vn/tin-tuc/bai-viet-123.html"
LEAD = (
    "BPO - Sáng 31-1, Sở Lao động - Thương binh và Xã hội tổ chức hội nghị tổng kết công tác "
    "lao động, người có công và xã hội năm 2023, triển khai nhiệm vụ năm 2024."
)
BODY = (
    "Năm 2023, với sự quan tâm của lãnh đạo tỉnh, sự hỗ trợ của các ngành liên quan, ngành lao "
    "động - thương binh và xã hội tỉnh đã cơ bản thực hiện hoàn thành các nhiệm vụ trọng tâm."
)
TAIL = (
    "Dịp này, các tập thể, cá nhân có thành tích xuất sắc cũng đã được tuyên dương, khen thưởng "
    "theo quy định của tỉnh trong năm vừa qua."
)


def page(inner: str, after: str = "") -> str:
    return (
        "<html lang='vi'><head><title>Tổng kết công tác năm 2023 - Báo Bình Phước</title></head>"
        "<body><div class='main'><h1>Tổng kết công tác năm 2023</h1>"
        f"<div class='content'><p>{LEAD}</p><p>{BODY}</p>{inner}<p>{TAIL}</p></div>{after}"
        "</div></body></html>"
    )


def paragraphs(html: str) -> list[str]:
    return extract_generic(html, URL).text.split("\n\n")


def assert_clean(html: str, *leftovers: str) -> None:
    text = extract_generic(html, URL).text
    assert LEAD in text and BODY in text and TAIL in text
    for leftover in leftovers:
        assert leftover not in text


def test_rating_widget() -> None:
    assert_clean(
        page(
            "",
            "<div id='stringrating'>Tổng số điểm của bài viết là: 0 trong 0 đánh giá</div>"
            "<p>Click để đánh giá bài viết</p>",
        ),
        "Tổng số điểm",
        "Click để đánh giá",
    )


def test_rating_text_without_its_container() -> None:
    assert_clean(
        page(
            "<p>Tổng số điểm của bài viết là: 12 trong 3 đánh giá</p><p>Click để đánh giá bài viết</p>"
        ),
        "Tổng số điểm",
        "Click để đánh giá",
    )


def test_comment_form_and_captcha() -> None:
    assert_clean(
        page(
            "<p>Ý kiến bạn đọc - Gửi bình luận</p><p>Gửi bình luận</p><p>reset captcha</p>"
            "<p>Gửi bình luận Nhập lại</p>"
        ),
        "Ý kiến bạn đọc",
        "Gửi bình luận",
        "reset captcha",
        "Nhập lại",
    )


def test_share_button_label() -> None:
    assert_clean(page("<p>Zalo</p>"), "Zalo")


def test_newer_and_older_news_lists() -> None:
    assert_clean(
        page(
            "",
            "<div class='news-other'><p class='h3'>Những tin mới hơn</p><ul><li><a href='/a'>A</a></li></ul>"
            "<p class='h3'>Những tin cũ hơn</p></div>",
        ),
        "Những tin mới hơn",
        "Những tin cũ hơn",
    )


def test_session_timeout_notice() -> None:
    assert_clean(
        page(
            "<p>Bạn đã không sử dụng Site, Bấm vào đây để duy trì trạng thái đăng nhập. "
            "Thời gian chờ: 60 giây</p>"
        ),
        "Bạn đã không sử dụng Site",
    )


def test_source_line_goes_to_article_source() -> None:
    html = page(
        "<p>Nguồn tin: Báo Bình Phước online: "
        "https://baobinhphuoc.com.vn/news/32/153777/tong-ket-cong-tac</p>"
    )
    article = extract_generic(html, URL)
    assert "Nguồn tin" not in article.text
    assert (
        article.source
        == "Báo Bình Phước online: https://baobinhphuoc.com.vn/news/32/153777/tong-ket-cong-tac"
    )


def test_named_source_line_with_url() -> None:
    html = page("<p>Nguồn Lạng Sơn: https://baolangson.vn/nganh-lao-dong-5034289.html</p>")
    article = extract_generic(html, URL)
    assert "baolangson.vn" not in article.text
    assert article.source == "Lạng Sơn: https://baolangson.vn/nganh-lao-dong-5034289.html"


def test_a_sentence_starting_with_nguon_is_text() -> None:
    assert source_line("Nguồn nhân lực chất lượng cao là yếu tố quyết định sự phát triển.") is None


def test_bare_image_urls_and_file_names() -> None:
    assert_clean(
        page(
            "<p>https://media.baobinhphuoc.com.vn/upload/news/1_2024/hinh_1_12362531012024.jpg</p>"
            "<p>trien_khai_NV</p><p>hinh_1_123.jpg</p>"
        ),
        "https://media",
        "trien_khai_NV",
        "hinh_1_123.jpg",
    )


def test_caption_printed_twice_is_dropped() -> None:
    caption = "Đồng chí Dương Xuân Huyên, Phó Chủ tịch Thường trực UBND tỉnh tham dự hội nghị"
    html = page(f"<p>{caption}</p><p>{caption}</p>")
    assert_clean(html, caption)


def test_figure_caption_is_an_image_caption_not_text() -> None:
    caption = "Các đại biểu dự hội nghị"
    html = page(
        f"<figure><img src='/upload/hinh_1.jpg' alt='hinh_1'><figcaption>{caption}</figcaption></figure>"
    )
    article = extract_generic(html, URL)
    assert caption not in article.text
    assert any(
        i.caption == caption and i.url == "https://example.vn/upload/hinh_1.jpg"
        for i in article.images
    )


def test_unfilled_template_text() -> None:
    assert_clean(
        page("<p>{{item.title}} - {{item.date}}</p><div>Xem {{ count }} bình luận</div>"), "{{"
    )


def test_byline_is_removed_and_becomes_the_author() -> None:
    article = extract_generic(page("<p>Trần Cường, Hải Yến</p>"), URL)
    assert "Trần Cường" in article.text  # not the last paragraph: a name mid-body stays text
    html = page("").replace(f"<p>{TAIL}</p>", f"<p>{TAIL}</p><p>Trần Cường, Hải Yến</p>")
    article = extract_generic(html, URL)
    assert article.authors == ["Trần Cường", "Hải Yến"]
    assert "Trần Cường" not in article.text


def test_lead_prefix_stays_in_the_text() -> None:
    assert paragraphs(page(""))[0].startswith("BPO - Sáng 31-1")


@pytest.mark.parametrize(
    "text",
    [
        "Zalo",
        "Gửi bình luận Nhập lại",
        "reset captcha",
        "Những tin cũ hơn",
        "hinh_2a_12363431012024",
    ],
)
def test_is_chrome_text(text: str) -> None:
    assert is_chrome_text(text)


@pytest.mark.parametrize("text", [LEAD, BODY, "Đồng USD duy trì đà tăng", "Hỗ trợ doanh nghiệp"])
def test_article_text_is_not_chrome(text: str) -> None:
    assert not is_chrome_text(text)


def test_an_id_is_a_widget_name_unless_it_anchors_the_element_s_own_heading() -> None:
    from selectolax.lexbor import LexborHTMLParser

    from scraper.extract.chrome import is_chrome_element, is_heading_anchor
    from tests.support.paths import REAL

    # cafef.vn's menu items: "menu-<category slug>" beside a link of other words: a widget
    page = LexborHTMLParser((REAL / "cafef.vn" / "meth04-article_batdongsan.html").read_bytes())
    item = page.css_first("#menu-thi-truong-chung-khoan")
    assert item is not None
    assert is_chrome_element(item, item.attrs.get("class") or "", item.id or "")
    assert not is_heading_anchor(item, item.id or "")
    # a heading's anchor, Vietnamese slugs without diacritics included
    doc = LexborHTMLParser(
        '<div id="sharing-with-a-single-developer"><h2>Sharing with a single developer</h2>'
        '<p>x</p></div><h3 id="binh-luan-cua-ban-doc-ve-du-an">Bình luận của bạn đọc về dự án'
        '</h3><div id="share-tools-bar-top"><h2>Tin mới</h2></div>'
    )
    section, heading, bar = doc.css("div, h3")[0], doc.css_first("h3"), doc.css("div")[1]
    assert section is not None and heading is not None
    assert not is_chrome_element(section, "", "sharing-with-a-single-developer")
    assert not is_chrome_element(heading, "", "binh-luan-cua-ban-doc-ve-du-an")
    assert is_chrome_element(bar, "", "share-tools-bar-top")
