"""Profiles: loading, validation errors, versions by date, lookup by URL and by CMS fingerprint,
and the listing-link selectors checked on real listing pages."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import urljoin

import pytest
from selectolax.lexbor import LexborHTMLParser

from scraper.errors import ConfigError
from scraper.profiles import SiteProfile, load_profiles, parse_profiles
from tests.support.paths import REAL

NOTES_SITES = ["baobinhphuoc", "baolangson", "baobacninhtv", "baolaocai", "baonghean", "cualo"]
PAGE_SITES = [
    "baochinhphu",
    "baodautu",
    "cafef",
    "dantri",
    "nld",
    "tuoitre",
    "vietnamnet",
    "vnexpress",
    "vtcnews",
]
MINIMAL = """
[[profile]]
name = "demo"
version = 1
valid_from = 2020-01-01
domains = ["demo.vn"]
[profile.selectors]
body = ["div.body"]
"""


def test_shipped_profiles_load() -> None:
    registry = load_profiles()
    names = registry.names()
    for name in [*NOTES_SITES, *PAGE_SITES, "nukeviet", "wordpress", "zce"]:
        assert name in names
    assert load_profiles() is registry  # cached


@pytest.mark.parametrize("name", NOTES_SITES)
def test_notes_profiles(name: str) -> None:
    p = load_profiles().get(name)
    assert p.kind == "site" and p.based_on == "notes"
    assert p.listing_links and p.article_pattern is not None
    assert p.selectors.body


@pytest.mark.parametrize("name", PAGE_SITES)
def test_page_profiles(name: str) -> None:
    p = load_profiles().get(name)
    assert p.kind == "site" and p.based_on == "page" and p.language == "vi"
    assert p.selectors.title and p.selectors.body and p.listing_links


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://baobinhphuoc.com.vn/news/32/153777/tong-ket-cong-tac", "baobinhphuoc"),
        ("https://baolangson.vn/hanh-trinh-hoi-nhap-5071654.html", "baolangson"),
        ("https://baobacninhtv.vn/tin-abc-postid123.bbg", "baobacninhtv"),
        ("https://baolaocai.vn/tin-abc-post123.html", "baolaocai"),
        ("https://www.baonghean.vn/tin-abc-123.html", "baonghean"),
        ("https://cualo.vn/gioi-thieu-ve-cua-lo/", "cualo"),
    ],
)
def test_article_patterns_from_the_notes(url: str, name: str) -> None:
    p = load_profiles().for_url(url)
    assert p is not None and p.name == name
    assert p.is_article_url(url)


def test_article_patterns_reject_listing_urls() -> None:
    reg = load_profiles()
    assert not reg.get("baolangson").is_article_url("https://baolangson.vn/chinh-tri")
    assert not reg.get("cualo").is_article_url("https://cualo.vn/wp-content/uploads/2023/12/a.jpg")


def test_for_url_unknown_domain() -> None:
    assert load_profiles().for_url("https://example.com/a.html") is None
    assert load_profiles().for_url("not a url") is None


def _host(base: str) -> str:
    return base.split("/")[2]


LISTINGS = [
    ("baochinhphu", "meth04-list.html", "https://baochinhphu.vn/"),
    ("baodautu", "meth04-list.html", "https://baodautu.vn/"),
    ("cafef", "meth04-list.html", "https://cafef.vn/"),
    ("dantri", "meth04-list.html", "https://dantri.com.vn/"),
    ("nld", "meth04-list.html", "https://nld.com.vn/"),
    ("tuoitre", "meth04-list.html", "https://tuoitre.vn/"),
    ("vietnamnet", "meth04-list.html", "https://vietnamnet.vn/"),
    ("vnexpress", "meth04-list.html", "https://vnexpress.net/"),
    ("vtcnews", "listing-latest.html", "https://vtcnews.vn/"),
    ("vtcnews", "home.html", "https://vtcnews.vn/"),
]


@pytest.mark.parametrize(("site", "file", "base"), LISTINGS)
def test_listing_links_on_real_listing_pages(site: str, file: str, base: str) -> None:
    profile = load_profiles().get(site)
    tree = LexborHTMLParser((REAL / _host(base) / file).read_bytes().decode("utf-8"))
    urls = {
        urljoin(base, a.attributes.get("href") or "")
        for sel in profile.listing_links
        for a in tree.css(sel)
    }
    articles = {u for u in urls if profile.is_article_url(u.split("?")[0])}
    assert len(articles) >= 10
    # the selectors pick article links, not navigation
    assert len(articles) >= 0.8 * len(urls)


def _write(tmp_path: Path, text: str, name: str = "bad.toml") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (MINIMAL.replace('body = ["div.body"]', 'body = ["div[["]'), "selectors.body[0]"),
        (MINIMAL.replace("version = 1", "version = 0"), "version"),
        (MINIMAL.replace("valid_from = 2020-01-01", 'valid_from = "soon"'), "valid_from"),
        (MINIMAL.replace('domains = ["demo.vn"]', "domains = []"), "domains"),
        (
            MINIMAL.replace("[profile.selectors]", "[profile.selectors]\nbogus = ['p']"),
            "selectors.bogus",
        ),
        (MINIMAL + "\n[profile.discovery]\narticle_pattern = '(['\n", "discovery.article_pattern"),
        (MINIMAL.replace('name = "demo"', 'name = "Demo Site"'), "name"),
        ("[[profile]\nname=", "invalid TOML"),
    ],
)
def test_malformed_profile_names_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    directory = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_profiles(directory)
    assert "bad.toml" in str(info.value)
    assert key in str(info.value)


def test_versions_by_date(tmp_path: Path) -> None:
    v2 = MINIMAL.replace("version = 1", "version = 2").replace("2020-01-01", "2024-06-01")
    v2 = v2.replace('body = ["div.body"]', 'body = ["article.new"]')
    registry = load_profiles(_write(tmp_path, MINIMAL + v2, "demo.toml"))
    assert registry.get("demo").version == 2
    assert registry.get("demo", at=date(2023, 1, 1)).version == 1
    assert registry.get("demo", at=date(2024, 6, 1)).selectors.body == ("article.new",)
    assert registry.get("demo", at=date(2010, 1, 1)).version == 1
    assert registry.for_url("https://www.demo.vn/a", at=date(2021, 5, 5)).version == 1  # type: ignore[union-attr]
    assert [p.version for p in registry.versions("demo")] == [1, 2]


def test_duplicate_version_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="version 1 twice"):
        load_profiles(_write(tmp_path, MINIMAL + MINIMAL, "dup.toml"))


def test_unknown_profile_is_config_error() -> None:
    with pytest.raises(ConfigError, match="nope"):
        load_profiles().get("nope")


def test_profile_is_frozen() -> None:
    p: SiteProfile = parse_profiles(MINIMAL, "x.toml")[0]
    with pytest.raises(AttributeError):
        p.name = "other"  # type: ignore[misc]
    assert p.label == "profile:demo@1"


NUKEVIET = """<html><head><meta name="generator" content="NukeViet v4.5">
<script>var nv_base_siteurl="/",nv_lang_data="vi",nv_module_name="news";</script></head><body>
<div class="news_column panel panel-default"><div class="panel-body">
<h1 class="title">Tổng kết công tác lao động, người có công và xã hội năm 2023</h1>
<span class="h5">Thứ năm - 01/02/2024 11:12</span>
<div class="hometext">BPO - Sáng 31-1, Sở tổ chức hội nghị tổng kết công tác năm 2023.</div>
<div id="news-bodyhtml" class="bodytext"><p>Năm 2023, ngành đã cơ bản thực hiện hoàn thành các
nhiệm vụ trọng tâm được UBND tỉnh giao, giải quyết việc làm đạt 116% kế hoạch.</p>
<p>Trong năm 2023 toàn tỉnh đã giảm được 2.200 hộ nghèo, đạt 110% kế hoạch.</p></div>
<p class="h5 text-right"><strong>Nguồn tin: </strong>Báo Bình Phước online</p>
<div id="stringrating">Tổng số điểm của bài viết là: 0 trong 0 đánh giá</div>
<div class="other-news"><p class="h3">Những tin mới hơn</p></div></div></div></body></html>"""
WORDPRESS = """<html><head><meta name="generator" content="WordPress 6.4.2">
<link rel="stylesheet" href="https://cualo.vn/wp-content/themes/x/style.css"></head><body>
<article><h1 class="entry-title">Cửa Lò tham dự hội nghị trực tuyến</h1>
<time class="entry-date" datetime="2023-12-26T17:00:00+07:00">26/12/2023</time>
<div class="entry-content"><p>Chiều ngày 26/12, UBND tỉnh Nghệ An tổ chức hội nghị trực tuyến.</p>
<p>Hữu Lương – Ngọc Ánh</p></div></article></body></html>"""
ZCE = """<html><head></head><body><article><h1 class="article__title cms-title">Tiêu đề ZCE</h1>
<div class="article__sapo cms-desc">Sapo của bài.</div>
<div class="article__meta"><time class="time" datetime="2024-01-05T08:00:00+0700">5/1/2024</time></div>
<div class="article__body zce-content-body cms-body" itemprop="articleBody">
<p>Thân bài của trang dùng CMS ZCE.</p></div></article></body></html>"""


@pytest.mark.parametrize(
    ("html", "name"), [(NUKEVIET, "nukeviet"), (WORDPRESS, "wordpress"), (ZCE, "zce")]
)
def test_detect_cms(html: str, name: str) -> None:
    found = load_profiles().detect(html)
    assert found is not None and found.name == name and found.kind == "cms"


def test_detect_nothing_on_a_plain_page() -> None:
    assert load_profiles().detect("<html><body><p>xin chào</p></body></html>") is None
    page = (REAL / "vnexpress.net" / "meth04-article.html").read_bytes().decode("utf-8")
    assert load_profiles().detect(page) is None
