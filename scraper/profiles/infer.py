"""What a news site looks like, inferred from its links and pages: pure functions, no I/O.

Used by ``vnnews probe`` to suggest a site's configuration: the dominant article URL shape
(``-\\d{5,}\\.html$``, ``-post\\d+\\.html$``, ``/news/\\d+/\\d+/``...), the likely listing pages
of a home page, and CSS selectors common to several article pages.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from selectolax.lexbor import LexborNode

from scraper.discover.html import document_base, parse_html
from scraper.extract.generic import find_body
from scraper.urls import canonicalize, same_site

#: links fed to the pattern inference at most (a sitemap may hold 50,000)
MAX_LINKS = 2000
#: an article id has at least this many digits (category ids such as "-27.html" have fewer)
MIN_ID_DIGITS = 5
#: ids this long are timestamps (tuoitre's 17 digits) and keep their exact length
TIMESTAMP_DIGITS = 12
#: a WordPress post slug is a headline (8+ words); "gioi-thieu-ve-cua-lo" is a page
SLUG_WORDS = 6
TOP_LISTINGS = 5
EVERY = "30m"
#: path words of pages that are not news listings (contact, search, media hubs, feeds)
NOT_LISTINGS = frozenset({
    "about", "author", "contact", "dang-ky", "dang-nhap", "dat-bao", "emagazine", "en", "feed",
    "gioi-thieu", "infographic", "infographics", "lich-van-nien", "lien-he", "login", "multimedia",
    "photo", "podcast", "quang-cao", "register", "search", "sitemap", "tag", "tags", "tim-kiem",
    "video", "videos", "wp-admin", "wp-login.php",
})  # fmt: skip
# public suffixes dropped from a host to name a site (baolaocai.vn → baolaocai)
_SUFFIXES = ("com.vn", "gov.vn", "org.vn", "net.vn", "edu.vn", "info.vn", "vn", "com", "net", "org",
             "info")  # fmt: skip
_ID_RE = re.compile(
    r"(?:^|(?P<dash>-))(?P<prefix>[A-Za-z]{0,8})(?P<digits>\d+)(?P<ext>\.[A-Za-z0-9]{2,5})?$"
)
_QUERY_ID_RE = re.compile(r"(?:^|&)(?P<name>[A-Za-z_]*id)=\d+(?:&|$)", re.I)
_PAGER_RE = re.compile(r"(?:^|-)(?:trang|page|p)-?\d+(?:\.[a-z]+)?$", re.I)
_CLASS_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class PatternGuess:
    """A regex searched in canonical article URLs, and how much of the evidence it explains."""

    pattern: str
    matched: int
    total: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class ListingCandidate:
    url: str
    #: article links in the page block this link heads (a home-page section)
    near_articles: int
    #: how often the page links to it (menus, section heads, footer)
    occurrences: int
    #: the link's rank in page order (nav links come first)
    position: int


def site_name(host: str, port: int | None = None) -> str:
    """A ``[[site]]`` name from a host: ``www.baolaocai.vn`` → ``baolaocai``;
    ``sonoivu.laocai.gov.vn`` → ``sonoivu-laocai``; an IP address keeps its digits. A port
    (give only one that is not the scheme's default) is appended: two sites on one host, such
    as loopback test servers, must not get one name (``127.0.0.1``, 8801 → ``127-0-0-1-8801``)."""
    name = _host_name(host)
    return f"{name}-{port}" if port is not None else name


def _host_name(host: str) -> str:
    host = host.lower().rstrip(".").split(":")[0]
    if re.fullmatch(r"[\d.]+", host) or ":" in host:
        return re.sub(r"[^a-z0-9]+", "-", host).strip("-") or "site"
    while host.startswith("www."):
        host = host[4:]
    for suffix in _SUFFIXES:
        if host.endswith("." + suffix):
            host = host[: -len(suffix) - 1]
            break
    return re.sub(r"[^a-z0-9-]+", "-", host.replace(".", "-")).strip("-") or "site"


def _digits_class(lengths: Sequence[int]) -> str:
    low, high = min(lengths), max(lengths)
    if low >= TIMESTAMP_DIGITS:
        return rf"\d{{{low}}}" if low == high else rf"\d{{{low},}}"
    return rf"\d{{{MIN_ID_DIGITS},}}"


def _candidates(urls: Sequence[str]) -> dict[str, list[str]]:
    """Shape key → URLs of that shape. A URL has at most one shape per family."""
    groups: dict[tuple[str, ...], list[tuple[str, int]]] = {}
    for url in urls:
        parts = urlsplit(url)
        path = parts.path
        slash = "/" if path.endswith("/") and path != "/" else ""
        segments = [s for s in path.split("/") if s]
        if not segments:
            continue
        voted = False
        m = _ID_RE.search(segments[-1])
        if m and len(m["digits"]) >= MIN_ID_DIGITS:  # "-<prefix><id>.<ext>": the common CMS shape
            sep = "-" if m["dash"] else "/"  # "-4954454.html" or bnews' "/435626.html"
            key: tuple[str, ...] = ("id", sep, m["prefix"].lower(), (m["ext"] or "").lower(), slash)
            groups.setdefault(key, []).append((url, len(m["digits"])))
            voted = True
        dirs = segments[:-1]
        if any(d.isdigit() for d in dirs):  # "/news/<cat>/<id>/<slug>", "/2024/05/<slug>/"
            shape = tuple("#" if d.isdigit() else d for d in dirs)
            groups.setdefault(("dirs", *shape, slash), []).append((url, 0))
            voted = True
        q = _QUERY_ID_RE.search(parts.query)
        if q:
            groups.setdefault(("query", q["name"]), []).append((url, 0))
            voted = True
        words = segments[-1].split(".")[0].split("-")
        # a bare long slug (WordPress) only counts when the URL has no id at all
        if not voted and len(words) >= SLUG_WORDS and not any(c.isdigit() for c in words[-1]):
            ext = "." + segments[-1].split(".", 1)[1] if "." in segments[-1] else ""
            groups.setdefault(("slug", str(len(segments)), ext.lower(), slash), []).append((url, 0))
    patterns: dict[str, list[str]] = {}
    for shape, members in groups.items():
        patterns.setdefault(_pattern_for(shape, [n for _, n in members]), []).extend(
            u for u, _ in members
        )
    return patterns


def _pattern_for(key: tuple[str, ...], lengths: list[int]) -> str:
    kind = key[0]
    if kind == "id":
        _, sep, prefix, ext, slash = key
        return f"{sep}{re.escape(prefix)}{_digits_class(lengths)}{re.escape(ext)}{slash}$"
    if kind == "dirs":
        dirs, slash = key[1:-1], key[-1]
        inner = "/".join(r"\d+" if d == "#" else re.escape(d) for d in dirs)
        return f"/{inner}/[^/?#]+{slash}$"
    if kind == "query":
        return rf"[?&]{re.escape(key[1])}=\d+(?:&|$)"
    _, depth, ext, slash = key
    lead = r"[^/?#]+/" * (int(depth) - 1)
    words = rf"(?:[^/?#.-]+-){{{SLUG_WORDS - 1},}}[^/?#.-]+"
    return rf"^https?://[^/?#]+/{lead}{words}{re.escape(ext)}{slash}$"


_FAMILY_RANK = {"-": 0, "/": 1, "[": 2, "^": 3}  # id shapes beat directory, query, slug shapes


def infer_article_pattern(urls: Sequence[str], *, min_matches: int = 2) -> PatternGuess | None:
    """The dominant article URL shape among ``urls`` (canonical, same-site), or None.

    Article URLs on Vietnamese news sites end in a long numeric id (``-4954454.html``,
    ``-post123.html``, ``-ar994669.html``, ``-20260307075519174.htm``), sit under numeric
    directories (``/news/19/123456/slug``), carry an id parameter, or (WordPress) are long slugs.
    Each URL votes for its shapes; the shape with the most votes wins, ties going to the more
    specific family. Category links (``/thoi-su.htm``, ``-27.html``) have no such shape.
    """
    urls = list(dict.fromkeys(urls))[:MAX_LINKS]
    if not urls:
        return None
    scored = sorted(
        _candidates(urls).items(),
        key=lambda kv: (-len(set(kv[1])), _FAMILY_RANK.get(kv[0][0], 9), kv[0]),
    )
    if not scored:
        return None
    pattern, _ = scored[0]
    regex = re.compile(pattern)
    matched = [u for u in urls if regex.search(u)]
    if len(matched) < min_matches:
        return None
    return PatternGuess(pattern, len(matched), len(urls), tuple(matched[:3]))


def _folder(url: str) -> tuple[str, str] | None:
    """``url``'s folder and ending: ("/bai-viet/", ".html") for /bai-viet/x.html, ("/tin/", "/")
    for /tin/x/, ("/", ".html") for /x.html; None for the root or a URL with a query."""
    parts = urlsplit(url)
    path = parts.path
    head, _, leaf = path.rstrip("/").rpartition("/")
    if parts.query or not leaf:
        return None
    ext = "/" if path.endswith("/") else "." + leaf.rsplit(".", 1)[1].lower() if "." in leaf else ""
    return head + "/", ext


def sample_links(urls: Sequence[str], base_url: str, *, limit: int) -> list[str]:
    """Same-site links worth fetching to learn which are articles, when their URLs have no
    article shape: first those of the folder (directory and extension) holding most links,
    then the others, in page order. A site's articles usually share a folder; its menu
    pages do not. Sections by their words (contact, search, feeds) are left out."""
    groups: dict[tuple[str, str], list[str]] = {}
    for url in dict.fromkeys(urls):
        if not same_site(url, base_url) or _is_not_listing(url):
            continue
        folder = _folder(url)
        if folder is not None:
            groups.setdefault(folder, []).append(url)
    ranked = sorted(groups.values(), key=len, reverse=True)
    picked: list[str] = []
    for members in ranked:  # up to two from each folder, the largest folder first
        picked += members[:2]
    for members in ranked:
        picked += members[2:]
    return picked[:limit]


def pattern_from_articles(articles: Sequence[str], others: Sequence[str]) -> str | None:
    """A URL pattern for the folder most of ``articles`` (URLs of pages that read as articles)
    share, when at least two do and none of ``others`` (pages that did not) sits in it:
    ``^https?://[^/?#]+/bai\\-viet/[^/?#]+\\.html$``. None when the pages give no such folder."""
    counts = Counter(f for f in map(_folder, articles) if f is not None)
    if not counts:
        return None
    ((folder, hits),) = counts.most_common(1)
    if hits < 2 or any(_folder(u) == folder for u in others):
        return None
    head, ext = folder
    if head == "/":  # the site's root holds its menu pages too: no shape to tell them apart
        return None
    return rf"^https?://[^/?#]+{re.escape(head)}[^/?#]+{re.escape(ext)}$"


def _is_not_listing(url: str) -> bool:
    words = [s.split(".")[0].lower() for s in urlsplit(url).path.split("/") if s]
    return any(w in NOT_LISTINGS or "rss" in w for w in words)


def _is_listing_path(url: str, base_url: str, pattern: re.Pattern[str] | None) -> bool:
    if not same_site(url, base_url):
        return False
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if parts.query or not 1 <= len(segments) <= 2:
        return False
    if sum(c.isdigit() for c in parts.path) > 4:  # an id, not a section ("truyen-hinh-27" is one)
        return False
    if _PAGER_RE.search(segments[-1]):  # page 2 of a section is not another section
        return False
    if pattern is not None and pattern.search(url):
        return False
    return not _is_not_listing(url)


def rank_listings(
    html: str | bytes, base_url: str, pattern: re.Pattern[str] | None, *, top: int = TOP_LISTINGS
) -> list[ListingCandidate]:
    """Home-page links that look like section pages, best first.

    A section's link usually heads a block of its articles on the home page, so the first
    rank is the number of article links in the nearest enclosing block (up to four levels up,
    never a block holding most of the page's articles); then how often the page links to it;
    then page order (menus come first).
    """
    tree = parse_html(html)
    base = document_base(tree, base_url)
    anchors: list[tuple[LexborNode, str]] = []
    for a in tree.css("a[href]"):
        try:
            anchors.append((a, canonicalize(a.attributes.get("href") or "", base=base)))
        except ValueError:
            continue
    articles = {
        u
        for _, u in anchors
        if pattern is not None and pattern.search(u) and same_site(u, base_url)
    }
    found: dict[str, ListingCandidate] = {}
    for position, (node, url) in enumerate(anchors):
        if not _is_listing_path(url, base_url, pattern):
            continue
        near = _articles_near(node, base, pattern, len(articles)) if articles else 0
        old = found.get(url)
        if old is None:
            found[url] = ListingCandidate(url, near, 1, position)
        else:
            found[url] = ListingCandidate(
                url, max(near, old.near_articles), old.occurrences + 1, old.position
            )
    ranked = sorted(found.values(), key=lambda c: (-c.near_articles, -c.occurrences, c.position))
    return ranked[:top]


def _articles_near(node: LexborNode, base: str, pattern: re.Pattern[str] | None, total: int) -> int:
    current = node.parent
    for _ in range(4):
        if current is None or current.tag in ("body", "html"):
            return 0
        links = set()
        for a in current.css("a[href]"):
            try:
                url = canonicalize(a.attributes.get("href") or "", base=base)
            except ValueError:
                continue
            if pattern is not None and pattern.search(url):
                links.add(url)
        if links:
            return len(links) if len(links) * 2 <= total else 0
        current = current.parent
    return 0


def _node_selector(node: LexborNode, *, with_id: bool = False) -> str | None:
    if with_id:
        ident = node.attributes.get("id") or ""
        if _CLASS_RE.match(ident):
            return f"{node.tag}#{ident}"
    classes = [c for c in (node.attributes.get("class") or "").split() if _CLASS_RE.match(c)]
    return f"{node.tag}.{'.'.join(classes[:2])}" if classes else None


def guess_link_selectors(
    html: str | bytes, base_url: str, pattern: re.Pattern[str]
) -> tuple[str, ...]:
    """CSS selectors (``h3.title-news a[href]``) that pick the page's article links: the
    classed parent (or the anchor's own class) shared by at least a fifth of them, at most 3."""
    tree = parse_html(html)
    base = document_base(tree, base_url)
    counts: Counter[str] = Counter()
    total = 0
    for a in tree.css("a[href]"):
        try:
            url = canonicalize(a.attributes.get("href") or "", base=base)
        except ValueError:
            continue
        if not (pattern.search(url) and same_site(url, base_url)):
            continue
        total += 1
        parent = a.parent
        outer = _node_selector(parent) if parent is not None else None
        own = _node_selector(a)
        if outer:
            counts[f"{outer} a[href]"] += 1
        elif own:
            counts[f"{own}[href]"] += 1
    return tuple(sel for sel, n in counts.most_common(3) if n * 5 >= total)


def guess_selectors(pages: Sequence[str | bytes]) -> dict[str, tuple[str, ...]]:
    """Title and body selectors read off the first article page, kept only if every page has
    them: the classed ``<h1>``, and the generic extractor's body block by id or class."""
    if not pages:
        return {}
    trees = [parse_html(p) for p in pages]  # the limits, and the decoding, of every parse
    found: dict[str, tuple[str, ...]] = {}
    h1 = next((_node_selector(n) for n in trees[0].css("h1") if _node_selector(n)), None)
    body_node = find_body(trees[0])
    body = _node_selector(body_node, with_id=True) if body_node is not None else None
    for name, selector in (("title", h1), ("body", body)):
        if selector and all(t.css_first(selector) is not None for t in trees):
            found[name] = (selector,)
    return found
