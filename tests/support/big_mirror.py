"""A loopback news site of N articles for discovery and backfill tests.

It is shaped like a NukeViet provincial paper (the CMS of many of them, per the research notes):
a sitemap index with gzipped monthly-ish sitemaps, a paginated category listing (20 per page,
``?page=N`` with ``rel=next``), an RSS feed of the newest 20, and article pages in NukeViet's
markup. These pages are generated: they prove discovery and the frontier, not extraction
(extraction is proven on the real pages in tests/fixtures/real/).
"""

from __future__ import annotations

import gzip
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.support.loopback import LoopbackServer, send

VN = timezone(timedelta(hours=7))
PER_PAGE = 20
PER_SITEMAP = 100


@dataclass
class BigMirror:
    """Articles have ids 1..n; id n is the newest. One article a day."""

    n: int
    oldest: datetime = datetime(2025, 6, 1, 10, 0, tzinfo=VN)
    server: LoopbackServer = field(default_factory=LoopbackServer)
    hits: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def published(self, i: int) -> datetime:
        return self.oldest + timedelta(days=i - 1)

    def newest_first(self) -> list[int]:
        return list(range(self.n, 0, -1))

    def path(self, i: int) -> str:
        return f"/tin-tuc/xa-hoi/hoi-nghi-tong-ket-cong-tac-so-{i}-{100000 + i}.html"

    def url(self, path: str) -> str:
        return self.server.url(path)

    def article_urls(self) -> list[str]:
        return [self.url(self.path(i)) for i in range(1, self.n + 1)]

    # --- documents ------------------------------------------------------------------------

    def article_html(self, i: int) -> bytes:
        when = self.published(i)
        paragraphs = "".join(
            f"<p>Đoạn {k} của bài số {i}: Sở Lao động - Thương binh và Xã hội tổ chức hội nghị "
            f"tổng kết công tác năm, triển khai nhiệm vụ trọng tâm của ngành tại tỉnh.</p>"
            for k in range(1, 5)
        )
        return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
<meta name="generator" content="NukeViet v4.5">
<title>Hội nghị tổng kết công tác số {i} - Báo Thử Nghiệm</title>
<meta property="article:published_time" content="{when.isoformat()}">
<script>var nv_base_siteurl="/",nv_lang_data="vi",nv_module_name="news";</script></head>
<body><div class="news_column panel panel-default"><div class="panel-body">
<h1 class="title">Hội nghị tổng kết công tác số {i}</h1>
<span class="h5">{when.strftime("%d/%m/%Y %H:%M")}</span>
<div class="hometext">Tóm tắt bài số {i}.</div>
<div id="news-bodyhtml" class="bodytext">{paragraphs}</div>
<p class="h5 text-right"><strong>Tác giả: Phóng viên {i}</strong></p>
<div id="stringrating">Tổng số điểm của bài viết là: 0 trong 0 đánh giá</div>
</div></div></body></html>""".encode()

    def listing_html(self, page: int) -> bytes:
        pages = (self.n + PER_PAGE - 1) // PER_PAGE
        ids = self.newest_first()[(page - 1) * PER_PAGE : page * PER_PAGE]
        items = "".join(
            f'<div class="item"><h3><a href="{self.path(i)}">Bài số {i}</a></h3></div>' for i in ids
        )
        nxt = (
            f'<a rel="next" href="/tin-tuc/xa-hoi?page={page + 1}">Trang sau</a>'
            if page < pages
            else ""
        )
        return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Xã hội</title></head>
<body><nav><a href="/">Trang chủ</a><a href="/tin-tuc/xa-hoi">Xã hội</a></nav>
<div class="news_column"><div class="panel-body">{items}</div></div>
<div class="text-center"><ul class="pagination">{nxt}</ul></div></body></html>""".encode()

    def sitemap_index(self) -> bytes:
        chunks = (self.n + PER_SITEMAP - 1) // PER_SITEMAP
        entries = "".join(
            f"<sitemap><loc>{self.url(f'/sitemap-{k}.xml.gz')}</loc>"
            f"<lastmod>{self.published(min(self.n, (k + 1) * PER_SITEMAP)).isoformat()}</lastmod></sitemap>"
            for k in range(chunks)
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{entries}</sitemapindex>"
        ).encode()

    def sitemap(self, k: int) -> bytes:
        first = k * PER_SITEMAP + 1
        entries = "".join(
            f"<url><loc>{self.url(self.path(i))}</loc><lastmod>{self.published(i).isoformat()}</lastmod></url>"
            for i in range(first, min(first + PER_SITEMAP, self.n + 1))
        )
        xml = (
            f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{entries}</urlset>"
        ).encode()
        return gzip.compress(xml)

    def feed(self) -> bytes:
        items = "".join(
            f"<item><title>Bài số {i}</title><link>{self.url(self.path(i))}</link>"
            f"<pubDate>{format_datetime(self.published(i))}</pubDate></item>"
            for i in self.newest_first()[:PER_PAGE]
        )
        return f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>'.encode()

    # --- serving --------------------------------------------------------------------------

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(req.path)
        with self._lock:
            self.hits[req.path] += 1
        path = parts.path
        if path == "/robots.txt":
            send(
                req,
                200,
                f"User-agent: *\nAllow: /\nSitemap: {self.url('/sitemap.xml')}\n".encode(),
                {"content-type": "text/plain"},
            )
        elif path == "/sitemap.xml":
            send(req, 200, self.sitemap_index(), {"content-type": "application/xml"})
        elif path.startswith("/sitemap-") and path.endswith(".xml.gz"):
            send(
                req,
                200,
                self.sitemap(int(path[len("/sitemap-") : -len(".xml.gz")])),
                {"content-type": "application/gzip"},
            )
        elif path == "/rss.xml":
            send(req, 200, self.feed(), {"content-type": "application/rss+xml; charset=utf-8"})
        elif path == "/tin-tuc/xa-hoi":
            page = int(parse_qs(parts.query).get("page", ["1"])[0])
            send(req, 200, self.listing_html(page))
        elif path.startswith("/tin-tuc/xa-hoi/") and path.endswith(".html"):
            i = int(path.rsplit("-", 1)[1].removesuffix(".html")) - 100000
            if 1 <= i <= self.n:
                send(req, 200, self.article_html(i))
            else:
                send(req, 404, b"not found")
        else:
            send(req, 404, b"not found")

    def article_hits(self) -> Counter[str]:
        with self._lock:
            return Counter({p: c for p, c in self.hits.items() if p.startswith("/tin-tuc/xa-hoi/")})

    def publish(self, extra: int = 1) -> list[str]:
        """New articles appear on top of the feed and listing; returns their URLs."""
        self.n += extra
        return [self.url(self.path(i)) for i in range(self.n - extra + 1, self.n + 1)]

    def start(self) -> BigMirror:
        self.server.fallback = self._handle
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()


def site_toml(m: BigMirror) -> str:
    """The ``[[site]]`` table of the mirror's one site (its feed, its listing, its articles)."""
    return f"""[[site]]
name = "big"
base_url = "{m.url("/")}"
feeds = ["{m.url("/rss.xml")}"]
listings = ["{m.url("/tin-tuc/xa-hoi")}"]
article_pattern = '-\\d+\\.html$'
"""


def config_text(m: BigMirror) -> str:
    return f"""
[fetch]
min_delay = 0
allow_hosts = ["127.0.0.1"]
max_retries = 0
[daemon]
jitter = 0
{site_toml(m)}"""
