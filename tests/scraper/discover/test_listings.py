"""Listing pages: article links from real category pages, and every pagination form."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.discover.listings import extract_links, find_next_page
from scraper.errors import ConfigError
from tests.support.paths import REAL

# (page, its canonical URL, article URL pattern, distinct article links counted in the page with
# grep, one article known to be listed, a non-article link the page also has)
LISTINGS = [
    ("vnexpress.net/meth04-list.html", "https://vnexpress.net/kinh-doanh", r"-\d+\.html$", 50,
     "https://vnexpress.net/cach-cac-nuoc-doi-pho-cu-soc-nang-luong-tu-trung-dong-5047363.html",
     "https://vnexpress.net/topic/ha-noi-26482"),
    ("tuoitre.vn/meth04-list.html", "https://tuoitre.vn/kinh-doanh.htm", r"-\d{15,}\.htm$", 15,
     "https://tuoitre.vn/chien-su-day-gia-hoa-nhap-khau-dip-8-3-tang-manh-20260307075519174.htm",
     "https://tuoitre.vn/can-biet.htm"),
    ("nld.com.vn/meth04-list.html", "https://nld.com.vn/kinh-te.htm", r"-\d{15,}\.htm$", 37,
     "https://nld.com.vn/nhung-sai-sot-ho-kinh-doanh-thuong-gap-khi-thuc-hien-quy-dinh-moi-ve-thue-196260307071308923.htm",
     "https://nld.com.vn/tin-24h.htm"),
    ("baochinhphu.vn/meth04-list.html", "https://baochinhphu.vn/chinh-sach-va-cuoc-song/chinh-sach-moi.htm",
     r"-\d{15,}\.htm$", 34,
     "https://baochinhphu.vn/chinh-sach-moi-co-hieu-luc-tu-thang-3-2026-102260228093004191.htm",
     "https://baochinhphu.vn/chinh-tri/doi-ngoai.htm"),
    ("cafef.vn/meth04-list.html", "https://cafef.vn/thi-truong-chung-khoan.chn", r"\d+\.chn$", 34,
     "https://cafef.vn/thoi-diem-nang-hang-can-ke-mbs-diem-ten-30-co-phieu-viet-nam-co-kha-nang-lot-ro-chi-so-ftse-18826030622484142.chn",
     "https://cafef.vn/doc-nhanh.chn"),
    ("vietnamnet.vn/meth04-list.html", "https://vietnamnet.vn/kinh-doanh", r"-\d+\.html$", 31,
     "https://vietnamnet.vn/co-phieu-flc-duoc-giao-dich-tro-lai-2495349.html",
     "https://vietnamnet.vn/chinh-tri/xay-dung-dang"),
    ("dantri.com.vn/meth04-list.html", "https://dantri.com.vn/kinh-doanh.htm", r"-\d{17}\.htm$", 44,
     "https://dantri.com.vn/kinh-doanh/gia-vang-giam-van-cao-hon-the-gioi-gan-20-trieu-dongluong-20260307080054340.htm",
     "https://dantri.com.vn/event/lich-su-quoc-hoi-viet-nam-8378.htm"),
    ("baodautu.vn/meth04-list.html", "https://baodautu.vn/tai-chinh-chung-khoan-d6/", r"-d\d+\.html$", 32,
     "https://baodautu.vn/xu-phat-giam-doc-tai-chinh-tap-doan-tien-son-thanh-hoa-vi-thao-tung-co-phieu-d538952.html",
     "https://baodautu.vn/multimedia.html"),
    ("vtcnews.vn/listing-latest.html", "https://vtcnews.vn/tin-moi-hom-nay.html", r"-ar\d+\.html$", 30,
     "https://vtcnews.vn/nhieu-nguoi-bi-lua-dao-bong-dung-thanh-giam-doc-cong-ty-ma-ar994748.html",
     "https://vtcnews.vn/tin-gia-vang-113.html"),
    ("vtcnews.vn/home.html", "https://vtcnews.vn/", r"-ar\d+\.html$", 33,
     "https://vtcnews.vn/mo-rong-duong-hon-2-000-ty-dong-giai-cuu-ket-xe-o-cua-ngo-phia-dong-tp-hcm-ar994669.html",
     "https://vtcnews.vn/truyen-hinh-27.html"),
]  # fmt: skip


@pytest.mark.parametrize(("page", "url", "pattern", "count", "known", "other"), LISTINGS)
def test_extract_links_real_listing(
    page: str, url: str, pattern: str, count: int, known: str, other: str
) -> None:
    data = (REAL / page).read_bytes()
    links = extract_links(data, url, pattern=re.compile(pattern))
    assert len(links) >= count
    assert known in links
    assert other not in links
    assert len(links) == len(set(links))
    assert not [u for u in links if re.search(r"/(video|tag|tags|topic|event|podcast)/|#", u)]
    # the filter is doing the work: without it the same page gives the non-article link too
    assert other in extract_links(data, url)


def test_extract_links_keeps_page_order_and_drops_fragments() -> None:
    data = (REAL / "vnexpress.net" / "meth04-list.html").read_bytes()
    links = extract_links(
        data, "https://vnexpress.net/kinh-doanh", pattern=re.compile(r"-\d+\.html$")
    )
    # the first story is linked twice (title, then "#box_comment_vne"): listed once, first
    assert (
        links[0]
        == "https://vnexpress.net/gia-vang-the-gioi-tang-manh-dau-tho-vuot-90-usd-5047621.html"
    )


def test_extract_links_with_selectors_on_real_pages() -> None:
    vne = (REAL / "vnexpress.net" / "meth04-list.html").read_bytes()
    # a selector matching the element that contains the <a>
    titles = extract_links(vne, "https://vnexpress.net/kinh-doanh", selectors=["h3.title-news"])
    assert len(titles) == 50
    assert all(re.search(r"-\d+\.html$", u) for u in titles)
    vtc = (REAL / "vtcnews.vn" / "listing-latest.html").read_bytes()
    # a selector matching the <a> itself
    arts = extract_links(vtc, "https://vtcnews.vn/tin-moi-hom-nay.html", selectors=["article h3 a"])
    assert len(arts) == 30
    assert all(re.search(r"-ar\d+\.html$", u) for u in arts)
    assert arts == extract_links(
        vtc, "https://vtcnews.vn/tin-moi-hom-nay.html", pattern=re.compile(r"-ar\d+\.html$")
    )


def test_extract_links_snippet_rules() -> None:
    html = """<html><head><base href="https://bao.vn/tin/"></head><body>
    <div class="list">
      <a href="bai-1.html?utm_source=zalo">1</a>
      <a href="/the-thao/bai-2.html#comments">2</a>
      <a href="javascript:void(0)">js</a><a href="mailto:a@b.vn">mail</a><a href="">empty</a><a>no href</a>
      <a href="https://www.bao.vn/bai-3.html">www is the same site</a>
      <a href="https://other.vn/bai-4.html">other site</a>
      <a href="https://video.bao.vn/bai-5.html">subdomain</a>
      <a href="bai-1.html">duplicate</a>
    </div>
    <a href="/outside-6.html">outside the selector</a>
    </body></html>"""
    assert extract_links(html, "https://bao.vn/", selectors=[".list"]) == [
        "https://bao.vn/tin/bai-1.html",
        "https://bao.vn/the-thao/bai-2.html",
        "https://www.bao.vn/bai-3.html",
    ]
    assert extract_links(html, "https://bao.vn/", selectors=[".list"], same_site_only=False) == [
        "https://bao.vn/tin/bai-1.html",
        "https://bao.vn/the-thao/bai-2.html",
        "https://www.bao.vn/bai-3.html",
        "https://other.vn/bai-4.html",
        "https://video.bao.vn/bai-5.html",
    ]
    assert extract_links(html, "https://bao.vn/", pattern=re.compile(r"/the-thao/")) == [
        "https://bao.vn/the-thao/bai-2.html"
    ]
    assert extract_links(html, "https://bao.vn/")[-1] == "https://bao.vn/outside-6.html"


def test_extract_links_decodes_bytes_by_meta_charset() -> None:
    html = '<meta charset="windows-1258"><a href="/đà-lạt-1.html">x</a>'.replace("ạ", "a\u0323")
    assert extract_links(html.encode("cp1258"), "https://bao.vn/") == [
        "https://bao.vn/%C4%91%C3%A0-la%CC%A3t-1.html"  # as a browser sends it: not re-composed
    ]
    # the declaration is what made the difference: the same bytes read as UTF-8 give mojibake
    assert extract_links(
        html.encode("cp1258").replace(b"windows-1258", b"utf-8"), "https://bao.vn/"
    ) != ["https://bao.vn/%C4%91%C3%A0-la%CC%A3t-1.html"]


def test_invalid_selector_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        extract_links("<a href='/x'>x</a>", "https://bao.vn/", selectors=["a[["])
    assert info.value.url == "https://bao.vn/"


# -- next page -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "url", "expected"),
    [
        # <link rel="next">
        (
            "vnexpress.net/meth04-list.html",
            "https://vnexpress.net/kinh-doanh",
            "https://vnexpress.net/kinh-doanh-p2",
        ),
        (
            "vietnamnet.vn/meth04-list.html",
            "https://vietnamnet.vn/kinh-doanh",
            "https://vietnamnet.vn/kinh-doanh-page1",
        ),
        # a "❯" titled "Trang tiếp", and /trang-2 links
        (
            "dantri.com.vn/meth04-list.html",
            "https://dantri.com.vn/kinh-doanh.htm",
            "https://dantri.com.vn/kinh-doanh/trang-2.htm",
        ),
        # only a "Xem thêm" button to /trang-2: found by the URL shape
        (
            "vtcnews.vn/listing-latest.html",
            "https://vtcnews.vn/tin-moi-hom-nay.html",
            "https://vtcnews.vn/tin-moi-hom-nay/trang-2.html",
        ),
        # "Xem thêm" loads by script (javascript:;): no next page to follow
        ("tuoitre.vn/meth04-list.html", "https://tuoitre.vn/kinh-doanh.htm", None),
        ("nld.com.vn/meth04-list.html", "https://nld.com.vn/kinh-te.htm", None),
        (
            "baochinhphu.vn/meth04-list.html",
            "https://baochinhphu.vn/chinh-sach-va-cuoc-song/chinh-sach-moi.htm",
            None,
        ),
        ("vtcnews.vn/home.html", "https://vtcnews.vn/", None),
    ],
)
def test_find_next_page_real(page: str, url: str, expected: str | None) -> None:
    assert find_next_page((REAL / page).read_bytes(), url) == expected


def test_find_next_page_from_a_later_real_page() -> None:
    # the same dantri pager read as if it were page 1 of the listing: reading it as page 2
    # ("/kinh-doanh/trang-2.htm") the next one is trang-3, which the page links to
    data = (REAL / "dantri.com.vn" / "meth04-list.html").read_bytes()
    data = data.replace(b'title="Trang ti\xe1\xba\xbfp"', b"")  # leave only the URL shapes
    data = data.replace(b"\xe2\x9d\xaf", b"")  # and remove the arrow
    assert find_next_page(data, "https://dantri.com.vn/kinh-doanh/trang-2.htm") == (
        "https://dantri.com.vn/kinh-doanh/trang-3.htm"
    )


PAGER_CASES = [
    # rel=next, on <link> or <a>, relative, among other rel tokens
    ("https://bao.vn/tin?page=2", '<link rel="next" href="?page=3">', "https://bao.vn/tin?page=3"),
    (
        "https://bao.vn/tin",
        '<a rel="nofollow Next" href="/tin/p/2">2</a>',
        "https://bao.vn/tin/p/2",
    ),
    # rel=next to the page itself or to another site is ignored, then the text wins
    (
        "https://bao.vn/tin",
        '<link rel="next" href="https://bao.vn/tin#x"><a href="/tin?pg=2">Trang sau</a>',
        "https://bao.vn/tin?pg=2",
    ),
    (
        "https://bao.vn/tin",
        '<link rel="next" href="https://evil.vn/x"><a href="/tin/2">»</a>',
        "https://bao.vn/tin/2",
    ),
    # anchor text
    (
        "https://bao.vn/tin",
        '<a href="/a">Trước</a><a href="/tin/2">Trang sau</a>',
        "https://bao.vn/tin/2",
    ),
    ("https://bao.vn/tin", '<a href="/tin/2"> Tiếp </a>', "https://bao.vn/tin/2"),
    ("https://bao.vn/tin", '<a href="/tin/2">TIẾP</a>', "https://bao.vn/tin/2"),
    ("https://bao.vn/tin", '<a href="/tin/2">Sau</a>', "https://bao.vn/tin/2"),
    ("https://bao.vn/tin", '<a href="/tin/2">&raquo;</a>', "https://bao.vn/tin/2"),
    (
        "https://bao.vn/tin",
        '<a href="/tin/2" title="Trang sau"><i class="icon-next"></i></a>',
        "https://bao.vn/tin/2",
    ),
    ("https://bao.vn/tin", '<a href="/sau-con-mua-1.html">Sau cơn mưa</a>', None),
    # ?page=N+1 (and other page parameters), keeping the other parameters
    (
        "https://bao.vn/tin",
        '<a href="/tin?page=2">2</a><a href="/tin?page=3">3</a>',
        "https://bao.vn/tin?page=2",
    ),
    (
        "https://bao.vn/tin?cat=5&page=2",
        '<a href="/tin?cat=5&page=1">1</a><a href="/tin?cat=5&page=3">3</a>',
        "https://bao.vn/tin?cat=5&page=3",
    ),
    ("https://bao.vn/tin?cat=5&page=2", '<a href="/tin?cat=6&page=3">other listing</a>', None),
    (
        "https://bao.vn/index.php?nv=news&p=4",
        '<a href="/index.php?nv=news&p=5">5</a>',
        "https://bao.vn/index.php?nv=news&p=5",
    ),
    ("https://bao.vn/tin?page=5", '<a href="/tin?page=4">4</a><a href="/tin?page=5">5</a>', None),
    # /trang-N
    (
        "https://bao.vn/thoi-su.htm",
        '<a href="/thoi-su/trang-2.htm">2</a>',
        "https://bao.vn/thoi-su/trang-2.htm",
    ),
    (
        "https://bao.vn/thoi-su/trang-2.htm",
        '<a href="/thoi-su.htm">1</a><a href="/thoi-su/trang-3.htm">3</a>',
        "https://bao.vn/thoi-su/trang-3.htm",
    ),
    (
        "https://bao.vn/thoi-su/",
        '<a href="/thoi-su/trang-2/">2</a>',
        "https://bao.vn/thoi-su/trang-2/",
    ),
    ("https://bao.vn/thoi-su.htm", '<a href="/the-thao/trang-2.htm">another listing</a>', None),
    # -pN
    (
        "https://vnexpress.net/kinh-doanh",
        '<a href="/kinh-doanh-p2">2</a>',
        "https://vnexpress.net/kinh-doanh-p2",
    ),
    (
        "https://vnexpress.net/kinh-doanh-p2",
        '<a href="/kinh-doanh">1</a><a href="/kinh-doanh-p3">3</a>',
        "https://vnexpress.net/kinh-doanh-p3",
    ),
    ("https://vnexpress.net/kinh-doanh-p2", '<a href="/kinh-doanh-p4">4</a>', None),
    # nothing at all
    ("https://bao.vn/tin", '<a href="/tin/bai-1.html">bài</a>', None),
    ("https://bao.vn/", "", None),
]


@pytest.mark.parametrize(("url", "html", "expected"), PAGER_CASES)
def test_find_next_page_forms(url: str, html: str, expected: str | None) -> None:
    assert find_next_page(f"<html><body>{html}</body></html>", url) == expected


def test_find_next_page_selectors_come_before_text_and_shapes() -> None:
    html = """<div class="pager"><span class="next"><a href="/tin/pg-b">›</a></span></div>
    <a href="/tin?page=2">2</a><a href="/tin/x">Trang sau</a>"""
    assert (
        find_next_page(html, "https://bao.vn/tin", selectors=[".pager .next"])
        == "https://bao.vn/tin/pg-b"
    )
    assert (
        find_next_page(html, "https://bao.vn/tin") == "https://bao.vn/tin/pg-b"
    )  # "›" is a next arrow
    assert find_next_page(html.replace("›", "x"), "https://bao.vn/tin") == "https://bao.vn/tin/x"


def test_find_next_page_bad_base_is_none() -> None:
    assert find_next_page('<link rel="next" href="/2">', "not a url") is None


@given(
    st.text(max_size=500),
    st.sampled_from(
        ["https://bao.vn/tin", "https://bao.vn/tin?page=2", "https://bao.vn/a/trang-3.htm"]
    ),
)
@settings(max_examples=300)
def test_listing_functions_never_crash(html: str, url: str) -> None:
    for link in extract_links(html, url, same_site_only=False):
        assert link.startswith(("http://", "https://"))
    nxt = find_next_page(html, url)
    assert nxt is None or nxt.startswith("https://bao.vn/")
