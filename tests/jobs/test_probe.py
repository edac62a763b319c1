"""``vnnews probe``: pattern inference on real link lists, and whole probes of loopback sites
built from real pages (no traffic leaves 127.0.0.1: the resolver refuses every other host)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, date, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner

from jobs.app import fetch_settings
from jobs.cli import cli
from jobs.config import parse_config
from jobs.probe import (
    ProbeReport,
    probe,
    render_profile,
    render_site_block,
)
from scraper.discover.feeds import parse_feed
from scraper.discover.listings import extract_links
from scraper.discover.sitemaps import parse_sitemap
from scraper.fetch.client import Fetcher
from scraper.profiles import load_profiles, parse_profiles
from scraper.profiles.infer import (
    guess_selectors,
    infer_article_pattern,
    pattern_from_articles,
    rank_listings,
    sample_links,
    site_name,
)
from tests.support.loopback import LoopbackServer, Response, serving
from tests.support.paths import REAL

CONFIG = '[fetch]\nallow_hosts = ["127.0.0.1"]\nmin_delay = 0\nmax_retries = 0\n'


def _links(domain: str, name: str) -> list[str]:
    data = (REAL / domain / name).read_bytes()
    base = f"https://{domain}/"
    if name.startswith("feed-"):
        return [i.url for i in parse_feed(data, base)]
    if name.startswith("sitemap-"):
        return [e.url for e in parse_sitemap(data, base).urls]
    return extract_links(data, base)


# (domain, file, inferred pattern, a real article URL of the site, a real section URL)
CASES = [
    ("vnexpress.net", "meth04-list.html", r"-\d{5,}\.html$",
     "https://vnexpress.net/dau-bung-keo-dai-phat-hien-ung-thu-lymphoma-ruot-non-4954454.html",
     "https://vnexpress.net/kinh-doanh"),
    ("tuoitre.vn", "meth04-list.html", r"-\d{16,}\.htm$",
     "https://tuoitre.vn/chien-su-day-gia-hoa-nhap-khau-dip-8-3-tang-manh-20260307075519174.htm",
     "https://tuoitre.vn/kinh-doanh.htm"),
    ("dantri.com.vn", "meth04-list.html", r"-\d{5,}\.htm$",
     "https://dantri.com.vn/kinh-doanh/gia-vang-giam-van-cao-hon-the-gioi-gan-20-trieu-dongluong-20260307080054340.htm",
     "https://dantri.com.vn/kinh-doanh.htm"),
    ("nld.com.vn", "meth04-list.html", r"-\d{18}\.htm$",
     "https://nld.com.vn/nhung-sai-sot-ho-kinh-doanh-thuong-gap-khi-thuc-hien-quy-dinh-moi-ve-thue-196260307071308923.htm",
     "https://nld.com.vn/kinh-te.htm"),
    ("vietnamnet.vn", "meth04-list.html", r"-\d{5,}\.html$",
     "https://vietnamnet.vn/co-phieu-flc-duoc-giao-dich-tro-lai-2495349.html", "https://vietnamnet.vn/kinh-doanh"),
    ("baochinhphu.vn", "meth04-list.html", r"-\d{17,}\.htm$",
     "https://baochinhphu.vn/chinh-sach-moi-co-hieu-luc-tu-thang-3-2026-102260228093004191.htm",
     "https://baochinhphu.vn/chinh-tri.htm"),
    ("baodautu.vn", "meth04-list.html", r"-d\d{5,}\.html$",
     "https://baodautu.vn/xu-phat-giam-doc-tai-chinh-tap-doan-tien-son-thanh-hoa-vi-thao-tung-co-phieu-d538952.html",
     "https://baodautu.vn/tai-chinh-chung-khoan-d6/"),
    ("cafef.vn", "meth04-list.html", r"-\d{17,}\.chn$",
     "https://cafef.vn/tang-ho-tro-giam-ap-luc-tai-chinh-khi-chuyen-muc-dich-su-dung-dat-188260307071033787.chn",
     "https://cafef.vn/thi-truong-chung-khoan.chn"),
    ("vtcnews.vn", "home.html", r"-ar\d{5,}\.html$",
     "https://vtcnews.vn/mo-rong-duong-hon-2-000-ty-dong-giai-cuu-ket-xe-o-cua-ngo-phia-dong-tp-hcm-ar994669.html",
     "https://vtcnews.vn/truyen-hinh-27.html"),
    ("vtcnews.vn", "listing-latest.html", r"-ar\d{5,}\.html$",
     "https://vtcnews.vn/mo-rong-duong-hon-2-000-ty-dong-giai-cuu-ket-xe-o-cua-ngo-phia-dong-tp-hcm-ar994669.html",
     "https://vtcnews.vn/tin-moi-hom-nay.html"),
    ("baochinhphu.vn", "feed-baochinhphu.xml", r"-\d{17,}\.htm$",
     "https://baochinhphu.vn/chinh-sach-moi-co-hieu-luc-tu-thang-3-2026-102260228093004191.htm",
     "https://baochinhphu.vn/kinh-te.htm"),
    ("vietnambiz.vn", "feed-vietnambiz.xml", r"-\d{13,}\.htm$",
     "https://vietnambiz.vn/tch-va-hai-ma-ho-fpt-tang-manh-nhat-danh-muc-pyn-elite-trong-thang-8-202694173243150.htm",
     "https://vietnambiz.vn/chung-khoan.htm"),
    ("bnews.vn", "sitemap-news-2026-9.xml", r"/\d{5,}\.html$",
     "https://bnews.vn/han-quoc-lap-ky-luc-xuat-khau-nho-con-sot-chip-ai/435658.html",
     "https://bnews.vn/photo/trang-1.html"),
    ("nguoiquansat.vn", "sitemap-nguoiquansat-2026-09-05.xml", r"-\d{5,}\.html$",
     "https://nguoiquansat.vn/chan-dung-nu-tuong-8-lan-duoc-acb-bo-nhiem-lai-vi-tri-pho-tong-giam-doc-314419.html",
     "https://nguoiquansat.vn/"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("domain", "name", "expected", "article", "section"), CASES, ids=lambda v: str(v)[:30]
)
def test_pattern_inferred_from_real_links(
    domain: str, name: str, expected: str, article: str, section: str
) -> None:
    links = _links(domain, name)
    guess = infer_article_pattern(links)
    assert guess is not None and guess.pattern == expected
    regex = re.compile(guess.pattern)
    assert regex.search(article) and not regex.search(section)
    assert guess.matched == sum(1 for u in links if regex.search(u)) and guess.total == len(
        set(links)
    )
    profile = load_profiles().for_url(f"https://{domain}/")
    if profile is not None and profile.article_pattern is not None:
        # every link the hand-written profile calls an article, the guess does too, and the
        # guess adds at most a few more (dantri's /video/ pages, tuoitre's 16-digit id)
        theirs = {u for u in links if profile.article_pattern.search(u)}
        mine = {u for u in links if regex.search(u)}
        assert theirs <= mine and len(mine - theirs) <= max(1, len(theirs) // 5)


def test_pattern_shapes_without_an_id_suffix() -> None:
    # baobinhphuoc's "/news/<cat>/<id>/<slug>" (site notes) and a WordPress slug site (cualo)
    news = [
        f"https://baobinhphuoc.com.vn/news/{c}/{i}/{slug}"
        for c, i, slug in (
            (19, 161234, "khanh-thanh-cau-moi"),
            (14, 161240, "hoi-nghi-tinh-uy"),
            (19, 161302, "mua-lon-keo-dai"),
        )
    ]
    news += ["https://baobinhphuoc.com.vn/news/19", "https://baobinhphuoc.com.vn/lien-he"]
    guess = infer_article_pattern(news)
    assert guess is not None and guess.pattern == r"/news/\d+/\d+/[^/?#]+$" and guess.matched == 3
    wp = [
        "https://cualo.vn/le-hoi-du-lich-bien-cua-lo-nam-nay-co-gi-moi/",
        "https://cualo.vn/category/tin-tuc/",
        "https://cualo.vn/bai-bien-cua-lo-don-hang-van-du-khach-dip-le/",
        "https://cualo.vn/gioi-thieu-ve-cua-lo/",
    ]
    guess = infer_article_pattern(wp)
    assert guess is not None and guess.matched == 2
    assert not re.search(guess.pattern, "https://cualo.vn/gioi-thieu-ve-cua-lo/")


def test_no_pattern_from_section_links_only() -> None:
    sections = [u for u in _links("vtcnews.vn", "home.html") if "-ar" not in u]
    assert infer_article_pattern(sections) is None
    assert infer_article_pattern([]) is None


@pytest.mark.parametrize(("host", "port", "name"), [
    ("baolaocai.vn", None, "baolaocai"), ("www.baobinhphuoc.com.vn", None, "baobinhphuoc"),
    ("sonoivu.laocai.gov.vn", None, "sonoivu-laocai"), ("cualo.vn", None, "cualo"),
    ("127.0.0.1", None, "127-0-0-1"),
    # two sites on one host differ by port (two loopback servers in one sources.toml)
    ("127.0.0.1", 8801, "127-0-0-1-8801"), ("www.baolaocai.vn", 8080, "baolaocai-8080"),
])  # fmt: skip
def test_site_name(host: str, port: int | None, name: str) -> None:
    assert site_name(host, port) == name


def test_listings_ranked_on_a_real_page() -> None:
    html = (REAL / "dantri.com.vn" / "meth04-list.html").read_bytes()
    ranked = rank_listings(html, "https://dantri.com.vn/", re.compile(r"-\d{5,}\.htm$"))
    urls = [c.url for c in ranked]
    assert urls[0] == "https://dantri.com.vn/kinh-doanh.htm"
    assert "https://dantri.com.vn/kinh-doanh/tai-chinh.htm" in urls
    assert not any(re.search(r"-\d{5,}\.htm$|trang-\d|rss", u) for u in urls)
    assert all(c.near_articles > 0 for c in ranked)


# --- whole probes over loopback -------------------------------------------------------------


async def _loopback_only(host: str, port: int) -> list[str]:
    if host != "127.0.0.1":
        raise AssertionError(f"the probe tried to reach {host}")
    return ["127.0.0.1"]


def _probe(url: str, *, max_articles: int = 3) -> ProbeReport:
    settings = fetch_settings(parse_config(CONFIG).fetch)

    async def main() -> ProbeReport:
        async with Fetcher(settings, resolver=_loopback_only) as fetcher:
            return await probe(fetcher, url, max_articles=max_articles, today=date(2026, 3, 8))

    return asyncio.run(main())


ARTICLES = {  # real pages at the paths of their real URLs
    "/co-phieu-flc-duoc-giao-dich-tro-lai-2495349.html": "vietnamnet.vn/meth04-article.html",
    "/cach-cac-nuoc-doi-pho-cu-soc-nang-luong-tu-trung-dong-5047363.html": "vnexpress.net/meth04-article.html",
    "/dau-bung-keo-dai-phat-hien-ung-thu-lymphoma-ruot-non-4954454.html": "vnexpress.net/article-dau-bung-keo-dai-4954454.html",
}


def _news_site(srv: LoopbackServer) -> None:
    """The real vietnamnet listing as the home page (it advertises /kinh-doanh.rss), a feed and
    a sitemap of three real articles, robots.txt naming the sitemap."""
    html = {"content-type": "text/html; charset=utf-8"}
    xml = {"content-type": "application/xml"}
    srv.routes["/"] = Response(
        (REAL / "vietnamnet.vn" / "meth04-list.html").read_bytes(), headers=html
    )
    for path, fixture in ARTICLES.items():
        srv.routes[path] = Response((REAL / fixture).read_bytes(), headers=html)
    when = format_datetime(datetime(2026, 3, 7, 8, 0, tzinfo=UTC))
    items = "".join(
        f"<item><title>t</title><link>{escape(srv.url(p))}</link><pubDate>{when}</pubDate></item>"
        for p in ARTICLES
    )
    srv.routes["/kinh-doanh.rss"] = Response(
        f'<rss version="2.0"><channel>{items}</channel></rss>'.encode(), headers=xml
    )
    urls = "".join(f"<url><loc>{escape(srv.url(p))}</loc></url>" for p in ["/", *ARTICLES])
    sitemap = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    srv.routes["/news-sitemap.xml"] = Response(sitemap.encode(), headers=xml)
    # three of its section links answer; the best-ranked one (/kinh-doanh/tai-chinh) is dead
    # and /kinh-doanh/thi-truong only sends the reader back to the home page
    for section in ("/kinh-doanh", "/kinh-doanh/doanh-nhan", "/kinh-doanh/dau-tu"):
        srv.routes[section] = srv.routes["/"]
    srv.routes["/kinh-doanh/thi-truong"] = Response(b"", status=301, headers={"location": "/"})
    robots = f"User-agent: *\nDisallow: /private/\nSitemap: {srv.url('/news-sitemap.xml')}\n"
    srv.routes["/robots.txt"] = Response(robots.encode(), headers={"content-type": "text/plain"})


def test_probe_of_a_loopback_news_site() -> None:
    with LoopbackServer() as srv:
        _news_site(srv)
        report = _probe(srv.url("/"))
    assert [(f.url, f.items, f.same_site_items, f.advertised) for f in report.feeds] == [
        (srv.url("/kinh-doanh.rss"), 3, 3, True)
    ]
    assert [(s.url, s.urls, s.from_robots) for s in report.sitemaps] == [
        (srv.url("/news-sitemap.xml"), 4, True)
    ]
    assert report.pattern is not None and report.pattern.pattern == r"-\d{5,}\.html$"
    assert report.profile is None  # loopback has no site profile, vietnamnet no CMS fingerprint
    assert [a.url for a in report.articles] == [srv.url(p) for p in ARTICLES]
    assert all(a.error is None and a.title and a.text_length > 500 for a in report.articles)
    assert report.articles[0].title == "Cổ phiếu FLC được giao dịch trở lại"
    # the dead section link is left out, with a note; the next three answer (checked), the
    # rest follow unchecked, as ranked
    assert [c.url for c in report.listings] == [
        srv.url(p) for p in ("/kinh-doanh", "/kinh-doanh/doanh-nhan", "/kinh-doanh/dau-tu")
    ]
    dead, home = srv.url("/kinh-doanh/tai-chinh"), srv.url("/kinh-doanh/thi-truong")
    assert f"{dead}: HTTP 404: not suggested as a listing" in report.notes
    assert any(n.startswith(f"{home}: redirects to the home page") for n in report.notes)
    # its items are from March: a crawl of the suggested block would skip them all
    assert (
        f"{srv.url('/kinh-doanh.rss')}: all 3 items are older than 30d (the newest 2026-03-07): "
        "crawls skip them (horizon); `vnnews backfill SITE` archives them"
    ) in report.notes
    assert not any(
        s.path.startswith(("/rss", "/feed", "/sitemap")) for s in srv.seen
    )  # nothing guessed

    # the suggested block is valid sources.toml and says what the probe found
    site = parse_config(render_site_block(report)).sites[0]
    assert site.name == f"127-0-0-1-{srv.port}" and site.base_url == srv.url("/")
    assert site.every == 1800
    assert site.feeds == (srv.url("/kinh-doanh.rss"),) and site.sitemaps == (
        srv.url("/news-sitemap.xml"),
    )
    assert site.listings[0] == srv.url("/") and site.article_pattern is not None
    assert all(site.article_pattern.search(srv.url(p)) for p in ARTICLES)

    # no profile fits, so a skeleton comes with it, loadable and right about this site's URLs
    skeleton = render_profile(report)
    assert skeleton is not None
    profile = parse_profiles(skeleton)[0]
    assert profile.domains == ("127.0.0.1",) and profile.valid_from == date(2026, 3, 8)
    assert all(profile.is_article_url(srv.url(p)) for p in ARTICLES) and not profile.is_article_url(
        srv.url("/kinh-doanh")
    )
    assert profile.listing_links  # the pages are of two sites: no title selector fits both


def test_probe_of_an_article_takes_the_feeds_shape_over_the_pages_links() -> None:
    """Probing an article (not the home page): the real tuoitre page's own links (.htm, long
    ids) outnumber the feed's items (.html): a pattern of theirs would match none of the feed,
    and a crawl with it would discover nothing. The feed's shape is suggested instead."""
    probed = "/tin/chien-su-day-gia-hoa-4954460.html"
    with LoopbackServer() as srv:
        _news_site(srv)
        html = {"content-type": "text/html; charset=utf-8"}
        srv.routes[probed] = Response(
            (REAL / "tuoitre.vn" / "meth04-article.html").read_bytes(), headers=html
        )
        items = "".join(
            f"<item><title>t</title><link>{escape(srv.url(p))}</link></item>"
            for p in [*ARTICLES, probed]
        )
        srv.routes["/rss.xml"] = Response(
            f'<rss version="2.0"><channel>{items}</channel></rss>'.encode(),
            headers={"content-type": "application/xml"},
        )
        report = _probe(srv.url(probed))
    assert [f.url for f in report.feeds] == [srv.url("/rss.xml")]
    assert report.pattern is not None and report.pattern.pattern == r"-\d{5,}\.html$"
    assert any("which most of the feed's 4 items do not" in n for n in report.notes)
    site = parse_config(render_site_block(report)).sites[0]
    assert site.article_pattern is not None
    assert all(site.article_pattern.search(srv.url(p)) for p in [*ARTICLES, probed])


def test_selectors_read_off_real_article_pages() -> None:
    pages = [
        (REAL / "vnexpress.net" / n).read_bytes()
        for n in ("meth04-article.html", "article-dau-bung-keo-dai-4954454.html")
    ]
    # what the hand-written vnexpress profile says
    assert guess_selectors(pages) == {
        "title": ("h1.title-detail",),
        "body": ("article.fck_detail",),
    }
    mixed = [pages[0], (REAL / "vietnamnet.vn" / "meth04-article.html").read_bytes()]
    assert "title" not in guess_selectors(mixed)


def test_links_sampled_by_folder_and_a_pattern_learned_from_articles() -> None:
    home = "https://baonho.vn/"
    links = [
        "https://baonho.vn/", "https://baonho.vn/gioi-thieu.html", "https://baonho.vn/lien-he",
        "https://baonho.vn/chuyen-muc/thoi-su.html", "https://baonho.vn/tim-kiem/x.html",
        "https://other.vn/bai-viet/a.html", "https://baonho.vn/tin?id=3",
        *(f"https://baonho.vn/bai-viet/bai-{i}.html" for i in range(5)),
    ]  # fmt: skip
    sampled = sample_links(links, home, limit=5)
    # two of the largest folder first, then of each other folder, then the rest; no other host,
    # no query, never the home page nor pages named as no news (about, contact, search)
    assert sampled == [
        "https://baonho.vn/bai-viet/bai-0.html", "https://baonho.vn/bai-viet/bai-1.html",
        "https://baonho.vn/chuyen-muc/thoi-su.html", "https://baonho.vn/bai-viet/bai-2.html",
        "https://baonho.vn/bai-viet/bai-3.html",
    ]  # fmt: skip
    articles = ["https://baonho.vn/bai-viet/bai-0.html", "https://baonho.vn/bai-viet/bai-1.html"]
    pattern = pattern_from_articles(articles, ["https://baonho.vn/chuyen-muc/thoi-su.html"])
    assert pattern == r"^https?://[^/?#]+/bai\-viet/[^/?#]+\.html$"
    assert re.search(pattern, "https://baonho.vn/bai-viet/bai-4.html")
    assert not re.search(pattern, "https://baonho.vn/bai-viet/2/bai-4.html")
    # one article is no evidence; a page of the folder that is not an article refutes it; the
    # root holds menu pages too
    assert pattern_from_articles(articles[:1], []) is None
    assert pattern_from_articles(articles, ["https://baonho.vn/bai-viet/muc-luc.html"]) is None
    assert (
        pattern_from_articles(["https://baonho.vn/a.html", "https://baonho.vn/b.html"], []) is None
    )
    assert pattern_from_articles(["https://baonho.vn/tin/a/", "https://baonho.vn/tin/b/"], []) == (
        r"^https?://[^/?#]+/tin/[^/?#]+/$"
    )


SMALL_ARTICLES = {  # real article pages under short slugs: no id, too few words for a slug shape
    "/bai-viet/co-phieu-flc.html": "vietnamnet.vn/meth04-article.html",
    "/bai-viet/cu-soc-nang-luong.html": "vnexpress.net/meth04-article.html",
    "/bai-viet/dau-bung-keo-dai.html": "vnexpress.net/article-dau-bung-keo-dai-4954454.html",
    "/bai-viet/mua-xuan.html": "tuoitre.vn/meth04-article.html",
}


def _small_site(articles: dict[str, str]) -> dict[str, Response]:
    """A home page linking a menu, one section and a few real articles; no feed, no sitemap."""
    nav = (
        '<nav><a href="/">Trang chủ</a> <a href="/toa-soan.html">Tòa soạn</a> '
        '<a href="/chuyen-muc/thoi-su.html">Thời sự</a></nav>'
    )
    items = "".join(f'<li><a href="{p}">{p.rsplit("/", 1)[1]}</a></li>' for p in articles)
    page = '<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Báo Nhỏ</title>'
    routes = {
        "/": Response(f"{page}</head><body>{nav}<h1>Báo Nhỏ</h1><ul>{items}</ul></body>".encode()),
        "/toa-soan.html": Response(f"{page}</head><body>{nav}<p>Tòa soạn Báo Nhỏ.</p>".encode()),
        "/chuyen-muc/thoi-su.html": Response(f"{page}</head><body>{nav}<ul>{items}</ul>".encode()),
    }
    for path, fixture in articles.items():
        routes[path] = Response((REAL / fixture).read_bytes())
    return routes


def test_probe_learns_the_article_shape_from_pages_when_urls_have_none() -> None:
    with serving(_small_site(SMALL_ARTICLES)) as srv:
        report = _probe(srv.url("/"))
    assert report.pattern is not None
    assert report.pattern.pattern == r"^https?://[^/?#]+/bai\-viet/[^/?#]+\.html$"
    assert report.pattern.matched == 4
    read = {a.url: a.article for a in report.articles if a.error is None}
    assert read == {
        **{srv.url(p): True for p in SMALL_ARTICLES},
        srv.url("/toa-soan.html"): False,
        srv.url("/chuyen-muc/thoi-su.html"): False,
    }
    # no article is offered as a listing (they were, before the pages were read)
    listings = {c.url for c in report.listings}
    assert srv.url("/chuyen-muc/thoi-su.html") in listings
    assert listings <= {srv.url("/chuyen-muc/thoi-su.html"), srv.url("/toa-soan.html")}
    site = parse_config(render_site_block(report)).sites[0]
    assert site.article_pattern is not None
    assert all(site.article_pattern.search(srv.url(p)) for p in SMALL_ARTICLES)
    assert not site.article_pattern.search(srv.url("/chuyen-muc/thoi-su.html"))
    assert any("learned from 4 sampled links" in n for n in report.notes)


def test_probe_of_articles_without_a_folder_suggests_no_pattern_and_no_article_as_listing() -> None:
    at_root = {p.replace("/bai-viet/", "/"): f for p, f in SMALL_ARTICLES.items()}
    with serving(_small_site(at_root)) as srv:
        report = _probe(srv.url("/"))
    assert report.pattern is None
    assert sum(a.article for a in report.articles) == 4
    assert not {c.url for c in report.listings} & {srv.url(p) for p in at_root}
    assert any("set article_pattern by hand" in n for n in report.notes)
    assert "# article_pattern: no article URL shape found" in render_site_block(report)


def test_probe_falls_back_to_guessed_feed_and_sitemap() -> None:
    # vtcnews' home advertises only https://vtcnews.vn/rss/...: another host, never fetched
    home = (REAL / "vtcnews.vn" / "home.html").read_bytes()
    first = next(u for u in extract_links(home, "http://127.0.0.1/") if "-ar" in u)
    routes = {
        "/": Response(home),
        "/rss/home.rss": Response(
            (REAL / "baochinhphu.vn" / "feed-baochinhphu.xml").read_bytes(),
            headers={"content-type": "application/rss+xml"},
        ),
        "/sitemap_index.xml": Response(
            (REAL / "bnews.vn" / "sitemap-news-2026-9.xml").read_bytes(),
            headers={"content-type": "text/xml"},
        ),
        first.removeprefix("http://127.0.0.1"): Response(
            (REAL / "vtcnews.vn" / "article-sample.html").read_bytes()
        ),
    }
    with serving(routes) as srv:
        report = _probe(srv.url("/"), max_articles=2)
    assert [(f.url, f.items, f.same_site_items, f.advertised) for f in report.feeds] == [
        (srv.url("/rss/home.rss"), 50, 0, False)
    ]
    assert [(s.url, s.urls, s.from_robots) for s in report.sitemaps] == [
        (srv.url("/sitemap_index.xml"), 8, False)
    ]
    assert any(
        "https://vtcnews.vn/rss/trang-chu.rss: feed on another host" in n for n in report.notes
    )
    assert report.pattern is not None and report.pattern.pattern == r"-ar\d{5,}\.html$"
    ok, missing = report.articles
    assert ok.error is None and ok.title and ok.text_length > 500 and ok.extractor == "generic"
    assert missing.error == "HTTP 404"
    site = parse_config(render_site_block(report)).sites[0]
    assert site.feeds == (srv.url("/rss/home.rss"),) and site.article_pattern is not None


def test_probe_command(tmp_path: Path) -> None:
    config = tmp_path / "sources.toml"
    config.write_text(CONFIG)
    with LoopbackServer() as srv:
        _news_site(srv)
        human = CliRunner().invoke(
            cli, ["--config", str(config), "probe", srv.url("/"), "--articles", "1"]
        )
        as_json = CliRunner().invoke(
            cli, ["--config", str(config), "probe", srv.url("/"), "--articles", "0", "--json"]
        )
    assert human.exit_code == 0, human.output
    block = human.output.split("# suggested sources.toml entry\n", 1)[1].split(
        "# suggested scraper/profiles", 1
    )[0]
    assert parse_config(block).sites[0].feeds == (srv.url("/kinh-doanh.rss"),)
    assert "extracted: 1 of 1" in human.output and "[[profile]]" in human.output
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["pattern"]["pattern"] == r"-\d{5,}\.html$" and data["articles"] == []
    assert parse_config(data["site_block"]).sites[0].name == f"127-0-0-1-{srv.port}"


def test_probe_command_errors_are_one_line(tmp_path: Path) -> None:
    config = tmp_path / "sources.toml"
    config.write_text(CONFIG)
    robots = Response(b"User-agent: *\nDisallow: /\n", headers={"content-type": "text/plain"})
    with serving({"/robots.txt": robots}) as srv:
        result = CliRunner().invoke(cli, ["--config", str(config), "probe", srv.url("/")])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "robots.txt" in result.output
    with serving({}) as srv:
        result = CliRunner().invoke(cli, ["--config", str(config), "probe", srv.url("/home")])
    assert (
        result.exit_code == 1 and result.output.strip() == f"vnnews: HTTP 404 ({srv.url('/home')})"
    )


def test_two_loopback_sites_get_blocks_that_go_in_one_config() -> None:
    # the blocks of two sites on one host (ports apart) are pasted into one sources.toml
    with serving(_small_site(SMALL_ARTICLES)) as one, serving(_small_site(SMALL_ARTICLES)) as two:
        blocks = [render_site_block(_probe(srv.url("/"), max_articles=0)) for srv in (one, two)]
    sites = parse_config("\n".join(blocks)).sites
    assert [s.name for s in sites] == [f"127-0-0-1-{one.port}", f"127-0-0-1-{two.port}"]


def test_probe_summary_says_the_home_page_is_the_only_listing(tmp_path: Path) -> None:
    config = tmp_path / "sources.toml"
    config.write_text(CONFIG)
    home = '<!doctype html><html lang="vi"><title>Báo Nhỏ</title><p>Chưa có tin.</p>'.encode()
    with serving({"/": Response(home)}) as srv:
        result = CliRunner().invoke(cli, ["--config", str(config), "probe", srv.url("/")])
    assert result.exit_code == 0, result.output
    # the suggested block lists the home page, so the summary does not say "none"
    assert "\nlistings: the home page only\n" in result.output
    block = result.output.split("# suggested sources.toml entry\n", 1)[1]
    assert parse_config(block.split("\n# suggested", 1)[0]).sites[0].listings == (srv.url("/"),)


@pytest.mark.parametrize(
    "args",
    [["probe", "notaurl"], ["probe", "baolaocai.vn"], ["probe", "ftp://baolaocai.vn/"],
     ["probe", "http://"], ["probe", "https://baolaocai.vn:port/"], ["extract", "http://"]],
    ids=" ".join,
)  # fmt: skip
def test_probe_or_extract_of_what_is_not_a_url_is_a_usage_error(args: list[str]) -> None:
    # refused before anything is fetched: no server is needed, none is reached
    result = CliRunner().invoke(cli, args)
    command, value = args
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1
    assert f" {command}: Invalid value for " in result.output
    assert f"{value!r} is not a URL: give " in result.output and "http://" in result.output


def test_probe_of_a_feed_or_sitemap_says_where_it_belongs(tmp_path: Path) -> None:
    config = tmp_path / "sources.toml"
    config.write_text(CONFIG)
    routes = {
        "/rss.xml": Response(
            (REAL / "baochinhphu.vn" / "feed-baochinhphu.xml").read_bytes(),
            headers={"content-type": "application/xml"},
        ),
        "/sitemap.xml": Response(
            (REAL / "bnews.vn" / "sitemap-news-2026-9.xml").read_bytes(),
            headers={"content-type": "text/xml; charset=utf-8"},
        ),
        "/logo.png": Response(b"\x89PNG\r\n\x1a\n", headers={"content-type": "image/png"}),
    }

    def run(path: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["--config", str(config), "probe", srv.url(path)])
        return result.exit_code, result.output

    with serving(routes) as srv:
        feed, sitemap, image = run("/rss.xml"), run("/sitemap.xml"), run("/logo.png")
    home = srv.url("/")
    assert feed == (1, (
        f"vnnews: {srv.url('/rss.xml')} is a feed (<rss>), not a home page: probe the site's "
        f"home page ({home}), or list the feed under a [[site]]'s feeds\n"
    ))  # fmt: skip
    assert sitemap == (1, (
        f"vnnews: {srv.url('/sitemap.xml')} is a sitemap (<urlset>), not a home page: probe the "
        f"site's home page ({home}), or list the sitemap under a [[site]]'s sitemaps\n"
    ))  # fmt: skip
    # neither HTML nor XML: refused as before
    assert image == (1, f"vnnews: content type 'image/png' is not html ({srv.url('/logo.png')})\n")
    # each was asked for as a page first: a site that negotiates on Accept serves its HTML
    first = srv.requests_for("/rss.xml")[0]
    assert first.headers["accept"].startswith("text/html")
