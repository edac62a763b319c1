"""Issue 12's Vietnamese cases, each through the real pipeline (``extract_generic``/
``extract_article``) on pages built from the seed patterns (shared/seeds/: the leftovers a naive
scraper kept on provincial pages) and the unseen-page failures the issue lists.

The markup is synthetic, the texts are the seeds' own: each test fails if its rule is removed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scraper.extract import extract_article, extract_generic, is_article
from tests.support.paths import REAL

URL = "https://example.vn/tin-tuc/bai-viet-123.html"
TITLE = "Tổng kết công tác lao động, người có công và xã hội năm 2023"
BODY = [
    "Năm 2023, với sự quan tâm của lãnh đạo tỉnh, sự hỗ trợ của các ngành liên quan, ngành lao "
    "động - thương binh và xã hội tỉnh đã cơ bản thực hiện hoàn thành các nhiệm vụ trọng tâm.",
    "Việc triển khai thực hiện các chương trình, đồ án, kế hoạch về việc làm, đào tạo nghề, "
    "giảm nghèo đạt nhiều kết quả tích cực, góp phần thực hiện thắng lợi các mục tiêu.",
    "Nổi bật là giải quyết việc làm đạt 116% kế hoạch, tăng 1,8% so với 2022, giáo dục nghề "
    "nghiệp tuyển sinh đạt 141%, chế độ cho người có công được đảm bảo đầy đủ, kịp thời.",
    "Dịp này, các tập thể, cá nhân có thành tích xuất sắc cũng đã được tuyên dương, khen thưởng "
    "theo quy định của tỉnh trong năm vừa qua.",
]
HPDT_LEAD = (
    "(HPĐT)- Theo thông tin từ Sở Lao động - Thương binh và Xã hội, năm 2023 toàn thành phố đã "
    "giải quyết việc làm cho hơn 56 nghìn lao động, vượt kế hoạch đề ra."
)
DNO_LEAD = (
    "ĐNO - HĐND thành phố vừa ban hành nghị quyết về chính sách hỗ trợ người lao động, người "
    "có công và các đối tượng bảo trợ xã hội trên địa bàn năm 2024."
)


def body_html(paragraphs: list[str] | None = None) -> str:
    return "".join(f"<p>{p}</p>" for p in (paragraphs or BODY))


def page(inner: str, *, head: str = "", before: str = "", after: str = "") -> str:
    return (
        f"<html lang='vi'><head><title>{TITLE} - Báo Tỉnh</title>{head}</head><body>"
        "<nav><a href='/'>Trang chủ</a><a href='/xa-hoi'>Xã hội</a></nav>"
        f"<div class='main'>{before}<h1>{TITLE}</h1>{inner}</div>{after}</body></html>"
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# --- lead (sapo) -------------------------------------------------------------------------


@pytest.mark.parametrize("lead", [HPDT_LEAD, DNO_LEAD])
def test_plain_first_paragraph_lead_is_kept_as_the_sapo(lead: str) -> None:
    html = page(f"<p>{lead}</p><div class='noi-dung'>{body_html()}</div>")
    article = extract_generic(html, URL)
    assert article.sapo == lead
    assert article.text.split("\n\n") == BODY


def test_truncated_lead_duplicate_is_dropped() -> None:
    truncated = HPDT_LEAD[:90].rstrip() + "..."
    html = page(f"<p>{HPDT_LEAD}</p><div class='noi-dung'><p>{truncated}</p>{body_html()}</div>")
    article = extract_generic(html, URL)
    assert article.sapo == HPDT_LEAD
    assert truncated not in article.text
    assert article.text.split("\n\n") == BODY


def test_truncated_copy_before_the_full_lead_in_the_body_is_dropped() -> None:
    truncated = DNO_LEAD[:80] + "…"
    html = page(f"<div class='noi-dung'><p>{truncated}</p><p>{DNO_LEAD}</p>{body_html()}</div>")
    assert extract_generic(html, URL).text.split("\n\n") == [DNO_LEAD, *BODY]


# --- related teasers -----------------------------------------------------------------------


def test_related_teasers_inside_the_body_are_dropped() -> None:
    teasers = (
        "<p><strong>Xem thêm:</strong> <a href='/bai-khac-1.html'>Bình Phước giải quyết việc làm "
        "cho hơn 20 nghìn lao động</a></p>"
        "<p>&gt;&gt; <a href='/bai-khac-2.html'>Sở Lao động tổng kết công tác năm 2022 và triển "
        "khai nhiệm vụ</a></p>"
    )
    paragraphs = [*BODY[:2], "__TEASERS__", *BODY[2:]]
    html = page(
        "<div class='noi-dung'>"
        + body_html(paragraphs).replace("<p>__TEASERS__</p>", teasers)
        + "</div>"
    )
    text = extract_generic(html, URL).text
    assert "Xem thêm" not in text and "nghìn lao động" not in text
    assert text.split("\n\n") == BODY


def test_a_sentence_with_a_link_is_text() -> None:
    linked = (
        "Theo <a href='/nghi-quyet.html'>Nghị quyết số 12</a>, người lao động được hỗ trợ học "
        "nghề, tìm việc làm và vay vốn ưu đãi trong năm 2024."
    )
    html = page(f"<div class='noi-dung'>{body_html()}<p>{linked}</p></div>")
    assert "Nghị quyết số 12" in extract_generic(html, URL).text


# --- bylines -----------------------------------------------------------------------------


def test_photo_credit_is_kept_apart_from_the_authors() -> None:
    html = page(f"<div class='noi-dung'>{body_html()}<p>Tin: Tường Minh - Ảnh: Đỗ Hiền</p></div>")
    article = extract_generic(html, URL)
    assert article.authors == ["Tường Minh"]
    assert article.photo_credits == ["Đỗ Hiền"]
    assert "Tường Minh" not in article.text


def test_visible_byline_wins_over_the_cms_account() -> None:
    head = "<meta name='author' content='longantv'>"
    html = page(f"<div class='noi-dung'>{body_html()}<p>KHÁNH CHI</p></div>", head=head)
    assert extract_generic(html, URL).authors == ["KHÁNH CHI"]
    byline_box = "<div class='author'>Hữu Lương – Ngọc Ánh</div>"
    html = page(f"{byline_box}<div class='noi-dung'>{body_html()}</div>", head=head)
    assert extract_generic(html, URL).authors == ["Hữu Lương", "Ngọc Ánh"]


def test_the_cms_account_is_the_last_resort() -> None:
    html = page(
        f"<div class='noi-dung'>{body_html()}</div>", head="<meta name='author' content='longantv'>"
    )
    assert extract_generic(html, URL).authors == ["longantv"]


# --- dates -----------------------------------------------------------------------------------


def ld(date: str) -> str:
    return (
        '<script type=\'application/ld+json\'>{"@type": "NewsArticle", '
        f'"datePublished": "{date}"}}</script>'
    )


def test_visible_time_refines_a_day_only_metadata_date() -> None:
    html = page(
        f"<div class='date'>08/01/2026 - 18:21</div><div class='noi-dung'>{body_html()}</div>",
        head=ld("2026-01-08"),
    )
    assert extract_generic(html, URL).published_at == utc(2026, 1, 8, 11, 21)


def test_metadata_stands_when_the_visible_date_is_another_day() -> None:
    html = page(
        f"<div class='date'>09/01/2026 - 18:21</div><div class='noi-dung'>{body_html()}</div>",
        head=ld("2026-01-08"),
    )
    assert extract_generic(html, URL).published_at == utc(2026, 1, 7, 17, 0)


def test_metadata_with_a_time_wins() -> None:
    html = page(
        f"<div class='date'>08/01/2026 - 18:21</div><div class='noi-dung'>{body_html()}</div>",
        head=ld("2026-01-08T09:00:00+07:00"),
    )
    assert extract_generic(html, URL).published_at == utc(2026, 1, 8, 2, 0)


YEARLESS = page(
    f"<div class='date'>Chiều 6/1, 15:30</div><div class='noi-dung'>{body_html()}</div>"
)


def test_yearless_dateline_takes_the_year_from_metadata() -> None:
    head = "<meta property='article:modified_time' content='2025-01-07T08:00:00+07:00'>"
    html = YEARLESS.replace("</head>", head + "</head>")
    assert extract_generic(html, URL).published_at == utc(2025, 1, 6, 8, 30)


def test_yearless_dateline_takes_the_year_from_the_url() -> None:
    article = extract_generic(YEARLESS, "https://example.vn/2024/01/06/bai-viet.html")
    assert article.published_at == utc(2024, 1, 6, 8, 30)


def test_yearless_dateline_takes_the_year_from_the_discovery_date() -> None:
    article = extract_generic(YEARLESS, URL, fallback_date=utc(2026, 1, 7, 2, 0))
    assert article.published_at == utc(2026, 1, 6, 8, 30)
    # found on 2 January, "31/12" is the year before
    html = YEARLESS.replace("Chiều 6/1", "Chiều 31/12")
    article = extract_generic(html, URL, fallback_date=utc(2026, 1, 2, 2, 0))
    assert article.published_at == utc(2025, 12, 31, 8, 30)


def test_yearless_dateline_without_any_reference_is_none() -> None:
    assert extract_generic(YEARLESS, URL).published_at is None


# --- seed chrome through the pipeline ----------------------------------------------------------


IMG = "https://media.example.vn/upload/news/1_2024/hinh_1_12362531012024.jpg"
CAPTION = "Các đại biểu dự hội nghị"


def test_caption_in_a_plain_table_cell_is_not_text() -> None:
    table = f"<table><tr><td><img src='{IMG}'></td></tr><tr><td>{CAPTION}</td></tr></table>"
    html = page(f"<div class='noi-dung'>{body_html(BODY[:2])}{table}{body_html(BODY[2:])}</div>")
    article = extract_generic(html, URL)
    assert article.text.split("\n\n") == BODY
    assert any(i.caption == CAPTION for i in article.images)


def test_emphasised_caption_under_an_image_is_not_text() -> None:
    figure = f"<p><img src='{IMG}'></p><p><em>{CAPTION}</em></p>"
    html = page(f"<div class='noi-dung'>{body_html(BODY[:2])}{figure}{body_html(BODY[2:])}</div>")
    article = extract_generic(html, URL)
    assert article.text.split("\n\n") == BODY
    assert any(i.caption == CAPTION for i in article.images)


def test_posted_on_line_in_the_body_is_not_text() -> None:
    html = page(f"<div class='noi-dung'><p>Đăng ngày 26/12/2023</p>{body_html()}</div>")
    article = extract_generic(html, URL)
    assert article.text.split("\n\n") == BODY
    assert article.published_at == utc(2023, 12, 25, 17, 0)


def test_leading_menu_label_and_trailing_box_title_are_not_text() -> None:
    inner = (
        "<div class='noi-dung'><div class='cat-name'><a href='/hoc-tap-bac'>Hoc tap bac</a></div>"
        f"{body_html()}<div class='box-title'><a href='/viec-lam'>Việc làm Bình Phước</a></div></div>"
    )
    text = extract_generic(page(inner), URL).text
    assert text.split("\n\n") == BODY


# --- not an article ---------------------------------------------------------------------------


def test_listing_leftovers_are_not_an_article() -> None:
    html = page(
        "<div class='noi-dung'><p>7' trước</p><p>Thông tin doanh nghiệp - sản phẩm</p></div>"
    )
    assert not is_article(extract_generic(html, URL))
    assert is_article(extract_generic(page(f"<div>{body_html()}</div>"), URL))


def test_require_article_raises_the_specific_error() -> None:
    from scraper.errors import ExtractError, NotAnArticleError
    from scraper.extract import require_article

    empty = extract_generic(page("<div><p>7' trước</p></div>"), URL)
    with pytest.raises(NotAnArticleError) as caught:
        require_article(empty)
    assert isinstance(caught.value, ExtractError)
    full = extract_generic(page(f"<div>{body_html()}</div>"), URL)
    assert require_article(full) is full


def test_a_json_ld_image_url_escaped_twice_is_read_as_its_url() -> None:
    # vietnamnet's JSON-LD holds "...-249.jpg?width=0&amp;s=UN_...": "&amp;" in JSON is the CMS
    # escaping twice (the same image in the page's <img> reads "&s=")
    html = (REAL / "vietnamnet.vn" / "meth04-article.html").read_bytes()
    article = extract_article(
        html, "https://vietnamnet.vn/co-phieu-flc-duoc-giao-dich-tro-lai-2495349.html"
    )
    lead = article.images[0].url
    assert lead.endswith("-249.jpg?width=0&s=UN_QLMxjvy-9ZwdebGLIHA"), lead
    assert not any("&amp;" in image.url for image in article.images)


def test_a_lead_set_as_an_h2_is_the_sapo_with_the_papers_code() -> None:
    """vtcnews prints its lead as ``<span>(VTC News) - </span><h2>...</h2>`` between the
    headline and the body, with no class naming it: the generic extractor took the ``<h2>`` for
    a headline and lost the lead (sapo None, not in the text either). A sentence-ending ``<h2>``
    that reads as a lead is the sapo, the paper's code before it included, as the site's
    profile gives it; a headline-like ``<h2>`` (no closing stop) is not."""
    html = (REAL / "vtcnews.vn" / "article-sample.html").read_bytes()
    generic = extract_generic(html, "https://example.org/x.html")
    profiled = extract_article(html, "https://vtcnews.vn/mo-rong-duong-ar994669.html")
    assert profiled.extractor.startswith("profile:vtcnews")
    assert generic.sapo == profiled.sapo
    assert generic.sapo is not None and generic.sapo.startswith("(VTC News) - Sau 8 tháng")
    assert generic.sapo not in generic.text
    # the same place holding a headline of another story, a question, or a quoted statement
    # (Vietnamese headlines end so): no lead
    for heading in (
        "Các dự án giao thông trọng điểm năm 2025 tại TP.HCM",
        "Vì sao giá vàng trong nước tăng mạnh trong những ngày đầu năm mới 2025 này?",
        'Bộ trưởng Bộ Tài chính: "Sẽ không để thiếu vốn cho các dự án giao thông trọng điểm"',
    ):
        other = page(f"<h2>{heading}</h2>{body_html()}")
        assert extract_generic(other, URL).sapo is None, heading
    # a page whose headline is itself an <h2> (the title read from og:title): not a lead
    question = "Vì sao giá vàng trong nước tăng mạnh trong những ngày đầu năm mới 2025 như thế."
    h2_headline = (
        f"<html><head><meta property='og:title' content='{question}'></head><body>"
        f"<div class='main'><h2 class='title'>{question}</h2>"
        f"<div class='content'>{body_html()}</div></div></body></html>"
    )
    assert extract_generic(h2_headline, URL).sapo is None


def test_a_byline_marked_data_role_author_is_read_without_a_profile() -> None:
    """nld.com.vn marks its byline ``<p class="name" data-role="author">``: found by the
    generic extractor too (it gave no author; the site's profile did)."""
    html = (REAL / "nld.com.vn" / "meth04-article.html").read_bytes()
    assert extract_generic(html, "https://example.org/x.html").authors == ["Minh Chiến"]
