"""URL canonicalization: a table of the cases seen on Vietnamese news links, plus idempotence."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from scraper.urls import TRACKING_PARAMS, canonicalize, host_of, port_of, same_site

BASE = "https://vnexpress.net/kinh-doanh/chung-khoan"

CASES = [
    # scheme and host case, default ports
    ("HTTPS://VnExpress.NET/Kinh-Doanh", "https://vnexpress.net/Kinh-Doanh"),
    ("http://vnexpress.net:80/a", "http://vnexpress.net/a"),
    ("https://vnexpress.net:443/a", "https://vnexpress.net/a"),
    ("http://vnexpress.net:443/a", "http://vnexpress.net:443/a"),
    ("https://vnexpress.net:8443/a", "https://vnexpress.net:8443/a"),
    ("https://vnexpress.net.", "https://vnexpress.net/"),
    # empty path, fragments
    ("https://vnexpress.net", "https://vnexpress.net/"),
    ("https://vnexpress.net?", "https://vnexpress.net/"),
    ("https://vnexpress.net/a-1.html#box_comment_vne", "https://vnexpress.net/a-1.html"),
    ("https://vnexpress.net/a-1.html?#", "https://vnexpress.net/a-1.html"),
    # tracking parameters dropped, others kept in order
    (
        "https://vnexpress.net/a-1.html?utm_source=fb&b=2&utm_medium=social&a=1&fbclid=IwAR0x",
        "https://vnexpress.net/a-1.html?b=2&a=1",
    ),
    (
        "https://baolaocai.vn/x-post1.html?zarsrc=31&gidzl=Abc&utm_campaign=z",
        "https://baolaocai.vn/x-post1.html",
    ),
    ("https://a.vn/x?UTM_Source=a&GCLID=b&id=3", "https://a.vn/x?id=3"),
    ("https://a.vn/x?utm%5Fsource=a&id=3", "https://a.vn/x?id=3"),
    ("https://a.vn/x?utm_whatever=1&page=2", "https://a.vn/x?page=2"),
    ("https://a.vn/x?a=1&&b=&c", "https://a.vn/x?a=1&b=&c"),
    ("https://a.vn/search?q=a+b&x=%26", "https://a.vn/search?q=a+b&x=%26"),
    # percent-encoding: unreserved decoded, hex upper-cased, spaces/non-ASCII encoded as UTF-8
    ("https://a.vn/%7Euser/%61bc", "https://a.vn/~user/abc"),
    ("https://a.vn/a%2fb%3a", "https://a.vn/a%2Fb%3A"),
    ("https://a.vn/tin tuc", "https://a.vn/tin%20tuc"),
    ("https://a.vn/100%", "https://a.vn/100%25"),
    ("https://a.vn/%zz", "https://a.vn/%25zz"),
    ("https://a.vn/a?q=Hà Nội", "https://a.vn/a?q=H%C3%A0%20N%E1%BB%99i"),
    ('https://a.vn/a<b>"c"', "https://a.vn/a%3Cb%3E%22c%22"),
    # Vietnamese characters in the path: raw, lower-case escapes, upper-case escapes agree
    (
        "https://baonghean.vn/tin-tức/hà-nội",
        "https://baonghean.vn/tin-t%E1%BB%A9c/h%C3%A0-n%E1%BB%99i",
    ),
    (
        "https://baonghean.vn/tin-t%e1%bb%a9c/h%c3%a0-n%e1%bb%99i",
        "https://baonghean.vn/tin-t%E1%BB%A9c/h%C3%A0-n%E1%BB%99i",
    ),
    # IDNA host
    ("https://Báo.VN/x", "https://xn--bo-mia.vn/x"),
    ("https://xn--bo-mia.vn/x", "https://xn--bo-mia.vn/x"),
    # dot segments, also escaped ones, and backslashes
    ("https://a.vn/a/./b/../c", "https://a.vn/a/c"),
    ("https://a.vn/a/b/..", "https://a.vn/a/"),
    ("https://a.vn/../../x", "https://a.vn/x"),
    ("https://a.vn/a/%2E%2E/b", "https://a.vn/b"),
    ("https://a.vn\\tin\\bai.html", "https://a.vn/tin/bai.html"),
    # whitespace browsers ignore
    ("  https://a.vn/x\n-y.html\t ", "https://a.vn/x-y.html"),
    # IP hosts
    ("http://127.0.0.1:8080/a", "http://127.0.0.1:8080/a"),
    ("http://[0:0:0:0:0:0:0:1]:80/a", "http://[::1]/a"),
]

RELATIVE = [
    ("/thoi-su-1.html", "https://vnexpress.net/thoi-su-1.html"),
    ("bai-viet-2.html", "https://vnexpress.net/kinh-doanh/bai-viet-2.html"),
    ("../the-thao", "https://vnexpress.net/the-thao"),
    ("?page=2", "https://vnexpress.net/kinh-doanh/chung-khoan?page=2"),
    ("#top", "https://vnexpress.net/kinh-doanh/chung-khoan"),
    ("//video.vnexpress.net/v-3.html", "https://video.vnexpress.net/v-3.html"),
    ("http://other.vn/x", "http://other.vn/x"),
    ("", "https://vnexpress.net/kinh-doanh/chung-khoan"),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_canonicalize_table(raw: str, expected: str) -> None:
    assert canonicalize(raw) == expected


@pytest.mark.parametrize(("href", "expected"), RELATIVE)
def test_canonicalize_resolves_against_base(href: str, expected: str) -> None:
    assert canonicalize(href, base=BASE) == expected


@pytest.mark.parametrize(
    ("raw", "www", "expected"),
    [
        ("https://www.baonghean.vn/a", "keep", "https://www.baonghean.vn/a"),
        ("https://www.baonghean.vn/a", "strip", "https://baonghean.vn/a"),
        ("https://baonghean.vn/a", "strip", "https://baonghean.vn/a"),
        ("https://baonghean.vn/a", "add", "https://www.baonghean.vn/a"),
        ("https://www.baonghean.vn/a", "add", "https://www.baonghean.vn/a"),
        ("https://www.www.baonghean.vn/a", "strip", "https://baonghean.vn/a"),
        ("https://www.vn/a", "strip", "https://www.vn/a"),  # never down to a bare TLD
        ("http://127.0.0.1/a", "add", "http://127.0.0.1/a"),
        ("http://localhost/a", "add", "http://localhost/a"),
    ],
)
def test_www_rules(raw: str, www: str, expected: str) -> None:
    assert canonicalize(raw, www=www) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "mode", "expected"),
    [
        (
            "https://baobinhphuoc.com.vn/news/14/143498/slug/",
            "keep",
            "https://baobinhphuoc.com.vn/news/14/143498/slug/",
        ),
        (
            "https://baobinhphuoc.com.vn/news/14/143498/slug/",
            "strip",
            "https://baobinhphuoc.com.vn/news/14/143498/slug",
        ),
        (
            "https://baobinhphuoc.com.vn/news/14/143498/slug//",
            "strip",
            "https://baobinhphuoc.com.vn/news/14/143498/slug",
        ),
        (
            "https://baobinhphuoc.com.vn/news/14/143498/slug",
            "add",
            "https://baobinhphuoc.com.vn/news/14/143498/slug/",
        ),
        ("https://a.vn/bai-viet-123.html", "add", "https://a.vn/bai-viet-123.html"),
        ("https://a.vn/", "strip", "https://a.vn/"),
        ("https://a.vn", "add", "https://a.vn/"),
        ("https://a.vn/x/?page=2", "strip", "https://a.vn/x?page=2"),
    ],
)
def test_trailing_slash_rules(raw: str, mode: str, expected: str) -> None:
    assert canonicalize(raw, trailing_slash=mode) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:void(0)",
        "mailto:toasoan@vnexpress.net",
        "tel:0123",
        "ftp://a.vn/x",
        "data:text/html,hi",
        "https://",
        "http:///path",
        "http://a.vn:99999/",
        "http://a.vn:port/",
        "http://exa mple.vn/",
        "http://a..vn/",
        "not a url",
    ],
)
def test_canonicalize_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        canonicalize(bad)


def test_relative_without_base_is_rejected() -> None:
    with pytest.raises(ValueError):
        canonicalize("/thoi-su-1.html")


def test_tracking_params_include_zalo_and_click_ids() -> None:
    assert {"fbclid", "gclid", "zarsrc", "gidzl", "utm_source"} <= TRACKING_PARAMS


def test_host_of() -> None:
    assert host_of("https://WWW.Báo.vn:8443/x?y#z") == "www.xn--bo-mia.vn"
    assert host_of("http://[::1]:8000/") == "[::1]"
    with pytest.raises(ValueError):
        host_of("mailto:x@y.vn")


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("https://www.baonghean.vn/a", "https://baonghean.vn/", True),
        ("http://baonghean.vn/a", "https://www.baonghean.vn/x", True),
        ("https://BAONGHEAN.vn/a", "https://baonghean.vn/", True),
        ("https://video.vnexpress.net/a", "https://vnexpress.net/", False),
        ("https://vnexpress.net.evil.com/a", "https://vnexpress.net/", False),
        ("https://vnexpress.net@evil.com/a", "https://vnexpress.net/", False),
        ("javascript:alert(1)", "https://vnexpress.net/", False),
        ("https://vnexpress.net/a", "not a url", False),
    ],
)
def test_same_site(url: str, base: str, expected: bool) -> None:
    assert same_site(url, base) is expected


# -- idempotence on generated URLs ---------------------------------------------------------

_label = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,10}[A-Za-z0-9])?", fullmatch=True)
_vn_label = st.sampled_from(["báo", "tin-tức", "hà-nội", "đà-nẵng", "www"])
_host = (
    st.lists(st.one_of(_label, _vn_label), min_size=1, max_size=3)
    .map(".".join)
    .map(lambda h: h + ".vn")
)
_piece = st.lists(
    st.one_of(
        st.sampled_from(
            [*"aZ09-._~%/?=&+;:@!$'()*, \\#[]<>\"|^`{}", "%2e", "%2F", "%7e", "%E1%BB%A9", ".."]
        ),
        st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")),
    ),
    max_size=30,
).map("".join)
_url = st.builds(
    lambda scheme, host, port, path, query, frag: (
        f"{scheme}://{host}{port}/{path}"
        + (f"?{query}" if query else "")
        + (f"#{frag}" if frag else "")
    ),
    st.sampled_from(["http", "https", "HTTP", "HtTpS"]),
    _host,
    st.sampled_from(["", ":80", ":443", ":8080"]),
    _piece,
    st.one_of(st.just(""), _piece, st.sampled_from(["utm_source=x&a=1", "fbclid=1", "a=1&b=2"])),
    st.one_of(st.just(""), _piece),
)


@given(
    _url,
    st.sampled_from(["keep", "strip", "add"]),
    st.sampled_from(["keep", "strip", "add"]),
)
def test_canonicalize_is_idempotent(url: str, www: str, slash: str) -> None:
    try:
        once = canonicalize(url, www=www, trailing_slash=slash)  # type: ignore[arg-type]
    except ValueError:
        assume(False)
        return
    assert canonicalize(once, www=www, trailing_slash=slash) == once  # type: ignore[arg-type]
    assert canonicalize(once) == once
    assert once.isascii()
    assert "#" not in once


def test_port_of_gives_the_schemes_default_when_none_is_named() -> None:
    assert port_of("http://a.vn/x") == 80 and port_of("HTTPS://a.vn/x") == 443
    assert port_of("http://127.0.0.1:8611/x") == 8611 and port_of("https://a.vn:443/") == 443
    for bad in ("file:///tmp/a.html", "http://a.vn:99999/"):
        with pytest.raises(ValueError):
            port_of(bad)
