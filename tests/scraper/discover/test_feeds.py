"""Feeds: the real baochinhphu and vietnambiz RSS, small snippets per format, hostile inputs."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from scraper.dates import parse_us_datetime
from scraper.discover.feeds import FeedItem, find_feed_links, parse_feed, parse_feed_date
from scraper.discover.xml import _parser, parse_xml
from scraper.errors import DiscoveryError
from scraper.profiles import load_profiles
from tests.support.loopback import LoopbackServer, Response
from tests.support.paths import REAL

BCP = REAL / "baochinhphu.vn" / "feed-baochinhphu.xml"
VNB = REAL / "vietnambiz.vn" / "feed-vietnambiz.xml"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# -- real feeds -----------------------------------------------------------------------------


def test_baochinhphu_real_feed() -> None:
    # the profile says how the site writes dates: its feed is the one US-dated source we know
    order = load_profiles().get("baochinhphu").date_order
    assert order == "mdy"
    items = parse_feed(BCP.read_bytes(), "https://baochinhphu.vn/kinh-te.rss", order=order)
    assert len(items) == 50
    by_url = {i.url: i for i in items}
    # US dates, local time: "9/5/2026 1:30:00 PM" is 5 September 13:30 +07:00
    first = items[0]
    assert first.url == (
        "https://baochinhphu.vn/co-che-chinh-sach-xac-dinh-gia-san-pham-in-duc-tien-102260905122709839.htm"
    )
    assert first.published_at == utc(2026, 9, 5, 6, 30)
    assert first.title == "Cơ chế, chính sách xác định giá sản phẩm in, đúc tiền"
    assert first.summary is not None and first.summary.startswith(
        "(Chinhphu.vn) - Chính phủ ban hành"
    )
    assert by_url[
        "https://baochinhphu.vn/dak-lak-vung-buoc-tren-hanh-trinh-phat-trien-hoi-nhap-102260903091223475.htm"
    ].published_at == utc(2026, 9, 3, 3, 5)  # 9/3/2026 10:05:00 AM
    last = items[-1]
    assert last.url.endswith("-102260828120002463.htm")
    assert last.published_at == utc(
        2026, 8, 28, 5, 49
    )  # 8/28/2026 12:49:00 PM (noon, not midnight)
    assert all(i.published_at is not None for i in items)
    assert all(i.updated_at is None for i in items)
    assert all(i.url.startswith("https://baochinhphu.vn/") for i in items)


def test_vietnambiz_real_feed_with_lying_encoding() -> None:
    data = VNB.read_bytes()
    assert data.startswith(b'<?xml version="1.0" encoding="utf-16"?>')  # the quirk is real
    items = parse_feed(data, "https://vietnambiz.vn/chung-khoan.rss")
    assert len(items) == 30
    first = items[0]
    assert first.url == (
        "https://vietnambiz.vn/tch-va-hai-ma-ho-fpt-tang-manh-nhat-danh-muc-pyn-elite-trong-thang-8-202694173243150.htm"
    )
    # "Fri, 04 Sep 2026 18:48:27 GMT+7" inside CDATA
    assert first.published_at == utc(2026, 9, 4, 11, 48, 27)
    # "v&#224;" inside CDATA means "và"
    assert first.title == "TCH và hai mã họ FPT tăng mạnh nhất danh mục PYN Elite trong tháng 8"
    # the summary is HTML (<a><img></a> then the sapo): words only
    assert first.summary is not None and first.summary.startswith("Thông tin cập nhật tháng 8")
    assert "<" not in first.summary
    middle = items[14]
    assert middle.url.endswith(
        "/nhieu-ctck-dong-long-du-bao-vn-index-huong-toi-1900-diem-trong-thang-9-202693134837921.htm"
    )
    assert middle.published_at == utc(2026, 9, 3, 8, 30, 8)
    assert middle.title == "Nhiều CTCK đồng lòng dự báo VN-Index hướng tới 1.900 điểm trong tháng 9"
    assert items[-1].published_at == utc(2026, 8, 29, 9, 17, 55)
    assert not any("&#" in (i.title or "") for i in items)


# -- formats ---------------------------------------------------------------------------------

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Bao</title>
  <entry>
    <title type="html">Gi&#225; v&#224;ng &amp;amp; USD</title>
    <link rel="self" href="https://bao.vn/self/1"/>
    <link rel="alternate" href="/tin/1-gia-vang.html?utm_source=rss"/>
    <published>2026-09-05T08:00:00+07:00</published>
    <updated>2026-09-05T09:30:00Z</updated>
    <summary>&lt;p&gt;Sapo &lt;b&gt;in&lt;/b&gt; HTML&lt;/p&gt;</summary>
  </entry>
  <entry>
    <title>No alternate link, only an href</title>
    <link href="https://bao.vn/tin/2.html"/>
    <updated>2026-09-05</updated>
  </entry>
</feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://bao.vn/"><title>Bao</title></channel>
  <item rdf:about="https://bao.vn/tin/3.html">
    <title>RDF item</title><link>https://bao.vn/tin/3.html</link>
    <dc:date>2026-09-05T10:00:00+07:00</dc:date>
  </item>
  <item rdf:about="https://bao.vn/tin/4.html"><title>Only rdf:about</title></item>
</rdf:RDF>"""


def test_atom() -> None:
    items = parse_feed(ATOM, "https://bao.vn/atom.xml")
    assert items == [
        FeedItem(
            url="https://bao.vn/tin/1-gia-vang.html",
            title="Giá vàng & USD",
            published_at=utc(2026, 9, 5, 1, 0),
            updated_at=utc(2026, 9, 5, 9, 30),
            summary="Sapo in HTML",
        ),
        FeedItem(
            url="https://bao.vn/tin/2.html",
            title="No alternate link, only an href",
            published_at=None,
            updated_at=utc(2026, 9, 4, 17, 0),
            summary=None,
        ),
    ]


def test_rdf() -> None:
    items = parse_feed(RDF, "https://bao.vn/rss.rdf")
    assert [(i.url, i.published_at) for i in items] == [
        ("https://bao.vn/tin/3.html", utc(2026, 9, 5, 3, 0)),
        ("https://bao.vn/tin/4.html", None),
    ]


def rss(items: str, *, decl: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return f'{decl}<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


def test_rss_quirks_bad_items_do_not_fail_the_feed() -> None:
    data = rss(
        "<item><title>bare ampersand</title><link>https://bao.vn/a.php?id=1&cat=2&amp;x=3</link>"
        "<pubDate>Sat, 05 Sep 26 17:09:00 +0700</pubDate></item>"
        "<item><title>no link</title><description>x</description></item>"
        "<item><title>bad date &nbsp;&copy;</title><link>/relative-5.html</link><pubDate>hôm qua</pubDate></item>"
        "<item><title>guid as link</title><guid>https://bao.vn/guid-6.html</guid></item>"
        '<item><title>guid not a permalink</title><guid isPermaLink="false">abc-7</guid></item>'
        "<item><title>guid that is an id</title><guid>12345</guid></item>"
        '<item><title>self link only</title><link rel="self" href="https://bao.vn/self-8"/></item>'
        "<item><title>javascript link</title><link>javascript:void(0)</link></item>"
        "<item><title>duplicate</title><link>https://bao.vn/relative-5.html#x</link></item>"
        "<item><link><![CDATA[https://bao.vn/cdata?a=1&amp;b=2]]></link><title></title></item>"
    )
    items = parse_feed(data, "https://bao.vn/rss/home.rss")
    assert [(i.url, i.published_at) for i in items] == [
        ("https://bao.vn/a.php?id=1&cat=2&x=3", utc(2026, 9, 5, 10, 9)),
        ("https://bao.vn/relative-5.html", None),
        ("https://bao.vn/guid-6.html", None),
        ("https://bao.vn/cdata?a=1&b=2", None),
    ]
    assert items[1].title == "bad date ©"
    assert items[3].title is None


def test_utf16_feed_with_bom_and_junk_before_declaration() -> None:
    body = '<?xml version="1.0" encoding="utf-16"?><rss><channel><item><title>Tiếp</title><link>https://bao.vn/t-1.html</link></item></channel></rss>'
    for data in (
        body.encode("utf-16"),
        body.encode("utf-16-le"),
        b"\n\n  " + body.replace("utf-16", "utf-8").encode(),
    ):
        items = parse_feed(data, "https://bao.vn/rss")
        assert [(i.url, i.title) for i in items] == [("https://bao.vn/t-1.html", "Tiếp")]


def test_windows_1258_declared_feed() -> None:
    # Windows-1258 writes "ẵ" as "ă" + a combining tilde; the title comes out NFC
    body = '<?xml version="1.0" encoding="windows-1258"?><rss><channel><item><title>Đà Nă\u0303ng</title><link>https://bao.vn/d-1.html</link></item></channel></rss>'
    items = parse_feed(body.encode("cp1258"), "https://bao.vn/rss")
    assert items[0].title == "Đà Nẵng"


def test_empty_channel_is_an_empty_list() -> None:
    assert parse_feed(rss(""), "https://bao.vn/rss") == []


# -- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9/5/2026 1:30:00 PM", utc(2026, 9, 5, 6, 30)),
        ("9/5/2026 12:34:00 PM", utc(2026, 9, 5, 5, 34)),
        ("9/5/2026 12:10:00 AM", utc(2026, 9, 4, 17, 10)),
        ("12/31/2026 11:59:59 pm", utc(2026, 12, 31, 16, 59, 59)),
        ("9/5/2026 18:05", utc(2026, 9, 5, 11, 5)),
        ("9/5/2026", utc(2026, 9, 4, 17, 0)),
        ("13/5/2026 1:00:00 PM", None),  # Vietnamese D/M order is not guessed
        ("9/31/2026 1:00:00 PM", None),
        ("9/5/2026 13:00:00 PM", None),
        ("9/5/26 1:00 PM", None),
        ("", None),
    ],
)
def test_parse_us_datetime(text: str, expected: datetime | None) -> None:
    assert parse_us_datetime(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # issue 12: a Vietnamese feed's "05/09/2026 13:30" is 5 September, not 9 May
        ("05/09/2026 13:30", utc(2026, 9, 5, 6, 30)),
        ("25/09/2026", utc(2026, 9, 24, 17, 0)),
        ("25/09/2026 08:15:00", utc(2026, 9, 25, 1, 15)),
        ("31/02/2026", None),
    ],
)
def test_feed_dates_are_day_first_by_default(text: str, expected: datetime | None) -> None:
    assert parse_feed_date(text) == expected
    assert parse_feed_date(text, order="dmy") == expected


def test_month_first_only_when_the_profile_says_so() -> None:
    assert parse_feed_date("05/09/2026 13:30", order="mdy") == utc(2026, 5, 9, 6, 30)
    assert parse_feed_date("25/09/2026", order="mdy") is None


def test_a_day_first_feed_item_keeps_its_day() -> None:
    data = rss("<item><link>https://bao.vn/a.html</link><pubDate>05/09/2026 13:30</pubDate></item>")
    [item] = parse_feed(data, "https://bao.vn/rss")
    assert item.published_at == utc(2026, 9, 5, 6, 30)
    [item] = parse_feed(data, "https://bao.vn/rss", order="mdy")
    assert item.published_at == utc(2026, 5, 9, 6, 30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fri, 04 Sep 2026 18:48:27 GMT+7", utc(2026, 9, 4, 11, 48, 27)),
        ("Sat, 05 Sep 26 17:09:00 +0700", utc(2026, 9, 5, 10, 9)),
        ("2026-09-05T23:48:01+07:00", utc(2026, 9, 5, 16, 48, 1)),
        ("28/8/2026 12:49:00 PM", utc(2026, 8, 28, 5, 49)),
        ("  ", None),
        (None, None),
        ("not a date", None),
    ],
)
def test_parse_feed_date(text: str | None, expected: datetime | None) -> None:
    assert parse_feed_date(text) == expected


# -- feed links in pages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "url", "expected"),
    [
        (
            "tuoitre.vn/meth04-list.html",
            "https://tuoitre.vn/kinh-doanh.htm",
            ["https://tuoitre.vn/rss/kinh-doanh.rss"],
        ),
        (
            "nld.com.vn/meth04-list.html",
            "https://nld.com.vn/kinh-te.htm",
            ["https://nld.com.vn/rss/kinh-te.rss"],
        ),
        (
            "cafef.vn/meth04-list.html",
            "https://cafef.vn/thi-truong-chung-khoan.chn",
            ["https://cafef.vn/thi-truong-chung-khoan.rss"],
        ),
        (
            "vietnamnet.vn/meth04-list.html",
            "https://vietnamnet.vn/kinh-doanh",
            ["https://vietnamnet.vn/kinh-doanh.rss"],
        ),
        (
            "dantri.com.vn/meth04-list.html",
            "https://dantri.com.vn/kinh-doanh.htm",
            ["https://dantri.com.vn/rss/kinh-doanh.rss"],
        ),
        (
            "baochinhphu.vn/meth04-list.html",
            "https://baochinhphu.vn/chinh-sach-va-cuoc-song/chinh-sach-moi.htm",
            ["https://baochinhphu.vn/chinh-sach-va-cuoc-song/chinh-sach-moi.rss"],
        ),
        ("vtcnews.vn/home.html", "https://vtcnews.vn/", ["https://vtcnews.vn/rss/trang-chu.rss"]),
        ("vnexpress.net/meth04-list.html", "https://vnexpress.net/kinh-doanh", []),
    ],
)
def test_find_feed_links_real_pages(page: str, url: str, expected: list[str]) -> None:
    assert find_feed_links((REAL / page).read_bytes(), url) == expected


def test_find_feed_links_snippet() -> None:
    html = """<html><head><base href="https://bao.vn/sub/">
    <link rel="Alternate" type="application/RSS+XML" href="rss/home.rss">
    <link rel="alternate" type="application/atom+xml; charset=utf-8" href="https://feeds.example.com/bao">
    <link rel="alternate" type="text/html" href="/en">
    <link rel="stylesheet" type="application/rss+xml" href="/not-a-feed.rss">
    <link rel="alternate" type="application/rss+xml" href="javascript:x">
    <link rel="alternate" type="application/rss+xml" href="rss/home.rss#dup">
    </head></html>"""
    assert find_feed_links(html, "https://bao.vn/") == [
        "https://bao.vn/sub/rss/home.rss",
        "https://feeds.example.com/bao",
    ]


# -- hostile and broken inputs ---------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss><channel><item><title>&lol9;</title><link>https://bao.vn/x</link></item></channel></rss>"""


def xxe(secret: Path) -> bytes:
    return (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "'
        + secret.as_uri()
        + '">]><rss><channel><item><title>&xxe;</title><link>https://bao.vn/x</link></item></channel></rss>'
    ).encode()


def test_billion_laughs_is_refused() -> None:
    with pytest.raises(DiscoveryError, match="entities") as info:
        parse_feed(BILLION_LAUGHS, "https://bao.vn/rss")
    assert info.value.url == "https://bao.vn/rss"


def test_xxe_is_refused_and_never_reads_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:SECRET-MARKER")
    with pytest.raises(DiscoveryError, match="entities"):
        parse_feed(xxe(secret), "https://bao.vn/rss")
    # the DOCTYPE check hides in UTF-16 too
    with pytest.raises(DiscoveryError, match="entities"):
        parse_feed(xxe(secret).decode().encode("utf-16"), "https://bao.vn/rss")
    # and behind it, the parser itself does not resolve external entities either
    root = etree.fromstring(xxe(secret), _parser())
    assert b"SECRET-MARKER" not in etree.tostring(root)


def test_truncated_feed_keeps_complete_items_only() -> None:
    data = BCP.read_bytes()
    full = {i.url for i in parse_feed(data, "https://baochinhphu.vn/kinh-te.rss")}
    # cut inside the link of some item: the cut URL must not come out
    cut = data.index(b"102260903091223475.htm") + 10
    items = parse_feed(data[:cut], "https://baochinhphu.vn/kinh-te.rss")
    assert 0 < len(items) < 50
    assert {i.url for i in items} <= full
    assert items[-1].published_at is not None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \n",
        bytes(range(256)) * 20,
        b"\x1f\x8b\x08\x00garbage",
        b"<?xml version='1.0'?>",
        b"<rss",
        "<!DOCTYPE html><html><head><title>Trang chủ</title></head><body><p>Xin chào &nbsp; <br></body></html>".encode(),
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://a.vn/</loc></url></urlset>',
    ],
    ids=[
        "empty",
        "blank",
        "binary",
        "gzip-magic",
        "declaration-only",
        "cut-root",
        "html",
        "sitemap",
    ],
)
def test_not_a_feed_raises_discovery_error(data: bytes) -> None:
    with pytest.raises(DiscoveryError) as info:
        parse_feed(data, "https://bao.vn/rss")
    assert info.value.url == "https://bao.vn/rss"
    assert "\n" not in str(info.value)


def test_parse_xml_reports_completeness() -> None:
    assert parse_xml(rss(""), url="u").complete
    assert not parse_xml(rss("")[:-12], url="u").complete


def test_external_dtd_is_never_loaded(tmp_path: Path) -> None:
    # No <!ENTITY> in the document itself, so the DOCTYPE check lets it through: the parser
    # must still neither fetch the DTD (network or file) nor expand what the DTD would define.
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:SECRET-MARKER")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY xxe SYSTEM "{secret.as_uri()}">')
    with LoopbackServer() as srv:
        srv.routes["/evil.dtd"] = Response(
            dtd.read_bytes(), headers={"content-type": "application/xml-dtd"}
        )
        for system_id in (srv.url("/evil.dtd"), dtd.as_uri()):
            data = (
                f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{system_id}"><rss><channel>'
                "<item><title>&xxe;</title><link>https://bao.vn/x-1.html</link></item>"
                "</channel></rss>"
            ).encode()
            items = parse_feed(data, "https://bao.vn/rss")
            assert [i.url for i in items] == ["https://bao.vn/x-1.html"]
            assert "SECRET-MARKER" not in (items[0].title or "")
        assert srv.seen == []


@given(st.binary(max_size=2000) | st.text(max_size=500).map(str.encode))
@settings(max_examples=300)
def test_parse_feed_never_crashes(data: bytes) -> None:
    try:
        items = parse_feed(data, "https://bao.vn/rss")
    except DiscoveryError:
        return
    assert all(i.url.startswith(("http://", "https://")) for i in items)


_soup = st.lists(
    st.sampled_from([*"<>&;/=\"' ab#x0!-[]?", "rss", "item", "link", "CDATA", "http://a.vn/"]),
    max_size=100,
).map("".join)


@given(_soup)
@settings(max_examples=300)
def test_parse_feed_never_crashes_on_tag_soup(text: str) -> None:
    with contextlib.suppress(DiscoveryError):
        for item in parse_feed(f"<rss><channel><item><link>{text}".encode(), "https://bao.vn/rss"):
            assert item.url.startswith("http")
