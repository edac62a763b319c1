"""Inputs a fuzzer found (2026-12-03) that raised something else than a VnnewsError, each
through the public function that reads such input from the web or from sources.toml: a charset
Python knows but no page can be in, dates past what datetime holds or with a 24-hour zone, a
character reference of thousands of digits, a broken IPv6 host in a URL, huge integers in the
configuration. Each now gives a result, or the error a user is meant to see."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jobs.config import parse_config
from scraper.charset import decode_body, normalize_label
from scraper.dates import parse_iso8601, parse_numeric_datetime, parse_rfc822
from scraper.discover.feeds import parse_feed
from scraper.discover.listings import extract_links
from scraper.discover.sitemaps import parse_sitemap
from scraper.errors import ConfigError, HtmlTooComplexError
from scraper.extract import extract_article
from scraper.extract.limits import MAX_DEPTH, defuse

ARTICLE = (
    "<h1>Tiêu đề</h1><p>" + "Nội dung bài viết đủ dài để là một bài báo thật sự. " * 20 + "</p>"
)


def _feed(item: str, decl: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return f"{decl}<rss><channel><item>{item}</item></channel></rss>".encode()


@pytest.mark.parametrize(
    "label",
    ["undefined", "idna", "utf-7", "rot13", "base64", "punycode", "cp500", "ibm037", "cp1140"],
)
def test_a_charset_no_page_can_be_in_is_not_used(label: str) -> None:
    assert normalize_label(label) is None
    page = f"<html><head><meta charset={label}></head><body>{ARTICLE}</body></html>"
    assert decode_body(page.encode(), f"text/html; charset={label}").startswith("<html>")
    assert extract_article(page.encode(), "https://x.vn/a.html").title == "Tiêu đề"
    feed = _feed(
        "<title>Tin</title><link>https://x.vn/a.html</link>",
        decl=f'<?xml version="1.0" encoding="{label}"?>',
    )
    assert [i.url for i in parse_feed(feed, "https://x.vn/")] == ["https://x.vn/a.html"]
    assert normalize_label("windows-1258") == "cp1258"  # the real ones still resolve


@pytest.mark.parametrize(
    "text",
    [
        "5 Sep 9999999999 1:0",  # a year past datetime's
        "Sat, 05 Sep 2026 17:09:00 GMT+24",  # no zone is 24 hours off
        "Sat, 31 Dec 9999 23:00:00 -0500",  # in UTC: the year 10000
        "Mon, 01 Jan 0001 00:00:00 +0700",  # the stdlib's two-digit rule made it 2001
    ],
)
def test_feed_dates_out_of_range_are_no_dates(text: str) -> None:
    assert parse_rfc822(text) is None
    (item,) = parse_feed(
        _feed(f"<title>Tin</title><link>https://x.vn/a.html</link><pubDate>{text}</pubDate>"),
        "https://x.vn/",
    )
    assert item.url == "https://x.vn/a.html" and item.published_at is None


def test_sitemap_and_page_dates_out_of_range_are_no_dates() -> None:
    assert parse_iso8601("2026-09-05T10:00:00+24:00") is None
    assert parse_iso8601("9999-12-31T23:00:00-05:00") is None
    assert parse_numeric_datetime("01/01/0001") is None  # 7 hours before year 1 in UTC
    assert parse_iso8601("2026-09-05T10:00:00+07:00") == datetime(2026, 9, 5, 3, tzinfo=UTC)
    sitemap = (
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://x.vn/a.html</loc><lastmod>2026-09-05T10:00+24:00</lastmod></url>"
        b"</urlset>"
    )
    (entry,) = parse_sitemap(sitemap, "https://x.vn/").urls
    assert entry.url == "https://x.vn/a.html" and entry.lastmod is None
    page = (
        '<html><head><meta property="article:published_time" content="9999-12-31T23:00:00-05:00">'
        f"</head><body>{ARTICLE}</body></html>"
    )
    assert extract_article(page, "https://x.vn/a.html").published_at is None


def test_a_character_reference_of_thousands_of_digits() -> None:
    huge = "&#" + "2" * 5000 + ";"
    (item,) = parse_feed(
        _feed(f"<title><![CDATA[Tin {huge} mới]]></title><link>https://x.vn/a.html</link>"),
        "https://x.vn/",
    )
    assert item.title == "Tin \ufffd mới"
    page = f'<html><head><meta property="og:title" content="Tin {huge}"></head><body>{ARTICLE}</body></html>'
    assert extract_article(page, "https://x.vn/a.html").title in ("Tiêu đề", "Tin \ufffd")


def test_a_broken_ipv6_host_in_a_page_url() -> None:
    page = (
        '<html><head><link rel="canonical" href="//[::1"></head><body>'
        f'{ARTICLE}<p><img data-src="//[x"></p></body></html>'
    )
    article = extract_article(page, "https://x.vn/a.html")
    assert article.title == "Tiêu đề" and article.canonical_url is None and article.images == []


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("[fetch]\nmin_delay = " + "9" * 400, "fetch.min_delay"),  # too large for a float
        ("[fetch]\ntimeout = " + "9" * 5000, "not valid TOML"),  # too long for int()
        ('[[site]]\nname = "a"\nbase_url = "http://["\n', r"site\[0\]\.base_url"),
        ('[[site]]\nname = "a"\nbase_url = "http://a.vn/"\nevery = ' + "9" * 400, "every"),
    ],
)
def test_hostile_numbers_and_urls_in_the_configuration(text: str, said: str) -> None:
    with pytest.raises(ConfigError, match=said):
        parse_config(text)


def test_json_ld_nested_deeper_than_the_interpreter_recurses() -> None:
    page = '<script type="application/ld+json">' + "[" * 100_000 + f"</script>{ARTICLE}"
    assert extract_article(page, "https://x.vn/a.html").title == "Tiêu đề"


@pytest.mark.parametrize("tag", ["rt", "rb", "rtc", "rp", "optgroup"])
def test_tags_that_nest_outside_their_parent_count_toward_the_depth_limit(tag: str) -> None:
    # outside <ruby>/<select> the parser nests them: 40,000 took 7 s to parse, unrefused
    page = f"<body>{ARTICLE}" + f"<{tag}>x" * (MAX_DEPTH + 1)
    with pytest.raises(HtmlTooComplexError, match="nested deeper"):
        extract_article(page, "https://x.vn/a.html")
    with pytest.raises(HtmlTooComplexError):
        extract_links(page, "https://x.vn/")
    # inside their parent, with their end tags, they stay shallow
    ruby = "<ruby>漢<rt>kan</rt>字<rt>ji</rt></ruby>" * 5_000
    assert extract_article(f"<body>{ARTICLE}{ruby}", "https://x.vn/a.html").title == "Tiêu đề"


def test_a_select_of_tens_of_thousands_of_options_is_parsed_without_them() -> None:
    # lexbor builds a select's options in quadratic time: 40,000 took 10 s
    options = "".join(f'<OPTION value="{i}">Xã {i}</option>' for i in range(40_000))
    page = f"<body>{ARTICLE}<select>{options}</select></body>"
    defused = defuse(page)
    assert "<option" not in defused.lower() and "Xã 39999" in defused
    assert defuse(page.encode()) == defused.encode()
    article = extract_article(page.encode(), "https://x.vn/a.html")
    assert article.title == "Tiêu đề" and "Xã" not in article.text  # the select is dropped
    # a commune picker of a few thousand is left as it is
    cut = options.index('value="3000"')
    picker = "<select>" + options[:cut] + "</select>"
    assert defuse(picker) == picker


def test_a_long_character_reference_of_leading_zeros() -> None:
    zeros = "&#" + "0" * 5000 + "65;"  # the zeros count toward int()'s limit too
    (item,) = parse_feed(
        _feed(f"<title><![CDATA[Tin {zeros}]]></title><link>https://x.vn/a.html</link>"),
        "https://x.vn/",
    )
    assert item.title == "Tin A"
    ld = '{"@type": "NewsArticle", "headline": "Tin &amp;' + zeros[1:] + '"}'
    page = f'<script type="application/ld+json">{ld}</script>{ARTICLE}'
    assert extract_article(page, "https://x.vn/a.html").text


@pytest.mark.parametrize(
    "option",
    [
        '<option a="<">x',  # a "<" in a quoted value hid the tag from a [^<>]* pattern
        '<option a="<>x',  # an unclosed quote
        "<option>x",  # start tags alone, no end tags
    ],
)
def test_options_hidden_behind_quotes_or_unclosed_are_defused(option: str) -> None:
    page = f"<body>{ARTICLE}<select>{option * 40_000}</select>"
    assert "<option" not in str(defuse(page, tags=None)).lower()
    assert extract_article(page.encode(), "https://x.vn/a.html").title == "Tiêu đề"


@pytest.mark.parametrize("charset", ["cp500", "utf-16"])
def test_the_limits_look_at_the_decoded_page(charset: str) -> None:
    # EBCDIC bytes hold no b"<", UTF-16 ones a NUL in every tag: 60,000 nested divs were parsed
    # unrefused (16 s)
    page = f'<meta charset="{charset}"><body>' + "<div>" * (MAX_DEPTH + 1)
    body = page.encode(charset)
    with pytest.raises(HtmlTooComplexError, match="nested deeper"):
        extract_article(body, "https://x.vn/a.html")
    with pytest.raises(HtmlTooComplexError):
        extract_links(body, "https://x.vn/")


def test_toml_nested_too_deep_and_a_port_out_of_range() -> None:
    with pytest.raises(ConfigError, match="nested too deep"):
        parse_config("x = " + "[" * 100_000)
    with pytest.raises(ConfigError, match=r"site\[0\]\.base_url"):
        parse_config('[[site]]\nname = "a"\nbase_url = "http://a.vn:99999/"\n')


def test_vnnews_probe_parses_pages_within_the_same_limits() -> None:
    from scraper.profiles import load_profiles
    from scraper.profiles.infer import guess_selectors

    page = '<meta charset="cp500"><body>' + "<div>" * (MAX_DEPTH + 1)
    with pytest.raises(HtmlTooComplexError):
        guess_selectors([page.encode("cp500")])
    with pytest.raises(HtmlTooComplexError):
        load_profiles().detect(page)
