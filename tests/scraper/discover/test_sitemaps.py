"""Sitemaps: the real bnews and nguoiquansat sitemaps, every sitemap form, hostile inputs."""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.discover.sitemaps import Sitemap, SitemapEntry, parse_sitemap
from scraper.errors import DiscoveryError
from tests.support.paths import REAL

BNEWS = REAL / "bnews.vn" / "sitemap-news-2026-9.xml"
NQS = REAL / "nguoiquansat.vn" / "sitemap-nguoiquansat-2026-09-05.xml"
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# -- real sitemaps ---------------------------------------------------------------------------


def test_bnews_monthly_sitemap() -> None:
    sm = parse_sitemap(BNEWS.read_bytes(), "https://bnews.vn/sitemap/news-2026-9.xml")
    assert sm.sitemaps == []
    assert len(sm.urls) == 8
    # the first three are home, photo and video; then articles
    assert [e.url for e in sm.urls[:3]] == [
        "https://bnews.vn/",
        "https://bnews.vn/photo/trang-1.html",
        "https://bnews.vn/video/trang-1.html",
    ]
    assert sm.urls[0].lastmod == utc(2026, 9, 5, 22, 57, 40)  # "2026-09-05T22:57:40Z"
    assert sm.urls[3] == SitemapEntry(
        url="https://bnews.vn/lich-thi-dau-va-truc-tiep-ngoai-hang-anh-arsenal-vs-chelsea-luc-22h30-ngay-6-9/435626.html",
        lastmod=utc(2026, 9, 5, 22, 30),  # "2026-09-06T05:30:00+07:00"
        published_at=None,
    )
    assert sm.urls[-1].url == (
        "https://bnews.vn/le-hoi-den-long-viet-nam-thu-hut-5-000-nguoi-tai-australia/435662.html"
    )
    assert sm.urls[-1].lastmod == utc(2026, 9, 5, 15, 5, 14)  # "2026-09-05T22:05:14+07:00"


def test_nguoiquansat_daily_sitemap_with_images() -> None:
    sm = parse_sitemap(NQS.read_bytes(), "https://nguoiquansat.vn/sitemap-article-2026-09-05.xml")
    assert len(sm.urls) == 5
    assert sm.urls[0].url == (
        "https://nguoiquansat.vn/viet-nam-dau-tu-4-500-ty-dong-xay-benh-vien-1-500-giuong-tren-khu-dat-rong-16ha-co-2-bai-dap-truc-thang-du-kien-hoat-dong-nam-2027-314422.html"
    )
    assert sm.urls[0].lastmod == utc(2026, 9, 5, 16, 48, 1)  # "2026-09-05T23:48:01+07:00"
    assert sm.urls[1] == SitemapEntry(
        url="https://nguoiquansat.vn/chan-dung-nu-tuong-8-lan-duoc-acb-bo-nhiem-lai-vi-tri-pho-tong-giam-doc-314419.html",
        lastmod=utc(2026, 9, 5, 16, 32, 1),
        published_at=None,
    )
    assert sm.urls[-1].lastmod == utc(2026, 9, 5, 16, 4, 1)  # "2026-09-05T23:04:01+07:00"
    # <image:loc> inside <image:image> is a picture, never a page
    assert not [e for e in sm.urls if "1cdn.vn" in e.url]


def test_real_sitemap_gzipped_gives_the_same_entries() -> None:
    data = NQS.read_bytes()
    url = "https://nguoiquansat.vn/sitemap-article-2026-09-05.xml.gz"
    assert parse_sitemap(gzip.compress(data), url) == parse_sitemap(data, url)


# -- forms -----------------------------------------------------------------------------------


def test_sitemap_index() -> None:
    data = f"""<?xml version="1.0" encoding="UTF-8"?>
    <sitemapindex {NS}>
      <sitemap><loc>https://bao.vn/sitemaps/news-2026-9.xml</loc><lastmod>2026-09-05</lastmod></sitemap>
      <sitemap><loc>/sitemaps/news-2026-8.xml</loc></sitemap>
      <sitemap><lastmod>2026-09-05</lastmod></sitemap>
    </sitemapindex>""".encode()
    sm = parse_sitemap(data, "https://bao.vn/sitemap.xml")
    assert sm == Sitemap(
        urls=[],
        sitemaps=[
            SitemapEntry("https://bao.vn/sitemaps/news-2026-9.xml", utc(2026, 9, 4, 17), None),
            SitemapEntry("https://bao.vn/sitemaps/news-2026-8.xml", None, None),
        ],
    )


def test_google_news_sitemap_and_bad_entries() -> None:
    data = f"""<?xml version="1.0" encoding="UTF-8"?>
    <urlset {NS} xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
      <url><loc>https://bao.vn/tin-1.html?utm_source=sm</loc>
        <news:news><news:publication><news:name>Báo</news:name><news:language>vi</news:language></news:publication>
          <news:publication_date>2026-09-05T08:15:00+07:00</news:publication_date>
          <news:title>Tin 1</news:title></news:news>
        <lastmod>2026-09-05T09:00:00+07:00</lastmod></url>
      <url><loc>  https://bao.vn/tin-2.html  </loc><lastmod>yesterday</lastmod></url>
      <url><loc>javascript:alert(1)</loc></url>
      <url><loc></loc></url>
      <url><lastmod>2026-09-05</lastmod></url>
      <url><loc>https://bao.vn/tin-1.html</loc></url>
      <url><loc>https://bao.vn/tin-3.html?a=1&b=2</loc><lastmod>Sat, 05 Sep 26 17:09:00 +0700</lastmod></url>
    </urlset>""".encode()
    sm = parse_sitemap(data, "https://bao.vn/sitemap-news.xml")
    assert sm.urls == [
        SitemapEntry("https://bao.vn/tin-1.html", utc(2026, 9, 5, 2), utc(2026, 9, 5, 1, 15)),
        SitemapEntry("https://bao.vn/tin-2.html", None, None),
        SitemapEntry("https://bao.vn/tin-3.html?a=1&b=2", utc(2026, 9, 5, 10, 9), None),
    ]


def test_namespace_less_sitemap() -> None:
    data = b"<urlset><url><loc>https://bao.vn/a.html</loc></url></urlset>"
    assert parse_sitemap(data, "https://bao.vn/s.xml").urls == [
        SitemapEntry("https://bao.vn/a.html", None, None)
    ]


def test_plain_text_sitemap() -> None:
    data = (
        "\ufeffhttps://bao.vn/tin-1.html\r\n"
        "\n"
        "  https://bao.vn/tin-tức-2.html  \n"
        "# a comment line\n"
        "ftp://bao.vn/x\n"
        "https://bao.vn/tin-1.html\n"
        "https://bao.vn/tin-3.html"
    ).encode()
    assert [e.url for e in parse_sitemap(data, "https://bao.vn/sitemap.txt").urls] == [
        "https://bao.vn/tin-1.html",
        "https://bao.vn/tin-t%E1%BB%A9c-2.html",
        "https://bao.vn/tin-3.html",
    ]


def test_rss_feed_as_sitemap() -> None:
    data = (REAL / "baochinhphu.vn" / "feed-baochinhphu.xml").read_bytes()
    # baochinhphu writes US dates: its profile's date_order
    sm = parse_sitemap(data, "https://baochinhphu.vn/kinh-te.rss", order="mdy")
    assert len(sm.urls) == 50
    assert sm.urls[0].published_at == utc(2026, 9, 5, 6, 30)
    assert sm.urls[0].lastmod == sm.urls[0].published_at


# -- caps ------------------------------------------------------------------------------------


def big_sitemap(n: int) -> bytes:
    body = "".join(f"<url><loc>https://bao.vn/tin-{i}.html</loc></url>" for i in range(n))
    return f'<?xml version="1.0"?><urlset {NS}>{body}</urlset>'.encode()


def test_max_urls_is_honoured_on_100k_urls() -> None:
    data = big_sitemap(100_000)
    sm = parse_sitemap(data, "https://bao.vn/s.xml")
    assert len(sm.urls) == 50_000
    assert sm.urls[-1].url == "https://bao.vn/tin-49999.html"
    small = parse_sitemap(gzip.compress(data), "https://bao.vn/s.xml.gz", max_urls=10)
    assert [e.url for e in small.urls] == [f"https://bao.vn/tin-{i}.html" for i in range(10)]
    text = "\n".join(f"https://bao.vn/t-{i}" for i in range(100)).encode()
    assert len(parse_sitemap(text, "https://bao.vn/s.txt", max_urls=7).urls) == 7
    assert len(parse_sitemap(data, "https://bao.vn/s.xml", max_urls=1).urls) == 1
    # no bound at all is the caller's mistake, not one entry nor "not a sitemap"
    for bad in (0, -1):
        with pytest.raises(ValueError, match="max_urls must be at least 1"):
            parse_sitemap(data, "https://bao.vn/s.xml", max_urls=bad)


def test_gzip_bomb_is_capped() -> None:
    # 60 MB of zeros inside a valid sitemap prefix: about 60 kB on the wire
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = compressor.compress(f"<urlset {NS}><url><loc>".encode())
    chunk = b"\0" * 1_000_000
    for _ in range(60):
        bomb += compressor.compress(chunk)
    bomb += compressor.flush()
    assert len(bomb) < 200_000
    with pytest.raises(DiscoveryError, match="larger than 50000000 bytes") as info:
        parse_sitemap(bomb, "https://bao.vn/bomb.xml.gz")
    assert info.value.url == "https://bao.vn/bomb.xml.gz"
    with pytest.raises(DiscoveryError, match="larger than 1000 bytes"):
        parse_sitemap(gzip.compress(big_sitemap(100)), "https://bao.vn/s.xml.gz", max_bytes=1000)


def test_uncompressed_size_cap() -> None:
    with pytest.raises(DiscoveryError, match="larger than"):
        parse_sitemap(big_sitemap(100), "https://bao.vn/s.xml", max_bytes=1000)


def test_concatenated_gzip_members() -> None:
    data = big_sitemap(3)
    two = gzip.compress(data[:50]) + gzip.compress(data[50:])
    assert len(parse_sitemap(two, "https://bao.vn/s.xml.gz").urls) == 3


# -- hostile and broken inputs ---------------------------------------------------------------


def test_billion_laughs_sitemap_is_refused() -> None:
    data = b"""<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaa">
    <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
    <urlset><url><loc>https://bao.vn/&c;</loc></url></urlset>"""
    with pytest.raises(DiscoveryError, match="entities"):
        parse_sitemap(data, "https://bao.vn/s.xml")
    with pytest.raises(DiscoveryError, match="entities"):
        parse_sitemap(gzip.compress(data), "https://bao.vn/s.xml.gz")


def test_xxe_sitemap_never_reads_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0")
    data = (
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        f"<urlset {NS}><url><loc>https://bao.vn/&x;</loc></url></urlset>"
    ).encode()
    with pytest.raises(DiscoveryError, match="entities"):
        parse_sitemap(data, "https://bao.vn/s.xml")


def test_truncated_sitemap_keeps_complete_entries() -> None:
    data = BNEWS.read_bytes()
    cut = data.index(b"/435048.html") - 20  # inside the 6th <loc>
    sm = parse_sitemap(data[:cut], "https://bnews.vn/sitemap/news-2026-9.xml")
    assert [e.url for e in sm.urls] == [
        e.url for e in parse_sitemap(data, "https://bnews.vn/sitemap/news-2026-9.xml").urls[:5]
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\n \r\n", "empty"),
        (bytes(range(1, 256)) * 10, "not a sitemap"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage", "gzip"),
        (gzip.compress(big_sitemap(10))[:-30], "gzip"),
        (
            "<!DOCTYPE html><html><head><title>Trang chủ</title></head><body>Không tìm thấy &nbsp;</body></html>".encode(),
            "not a sitemap",
        ),
        (b"<rss", "truncated feed"),
        (b"Not found", "not a sitemap"),
    ],
    ids=["empty", "blank", "binary", "bad-gzip", "cut-gzip", "html", "cut-xml", "text"],
)
def test_not_a_sitemap_raises(data: bytes, message: str) -> None:
    with pytest.raises(DiscoveryError, match=message) as info:
        parse_sitemap(data, "https://bao.vn/sitemap.xml")
    assert info.value.url == "https://bao.vn/sitemap.xml"
    assert "\n" not in str(info.value)


@given(st.binary(max_size=2000) | st.builds(gzip.compress, st.binary(max_size=500)))
@settings(max_examples=300)
def test_parse_sitemap_never_crashes(data: bytes) -> None:
    try:
        sm = parse_sitemap(data, "https://bao.vn/sitemap.xml")
    except DiscoveryError:
        return
    assert all(e.url.startswith(("http://", "https://")) for e in sm.urls + sm.sitemaps)
