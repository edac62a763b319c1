"""Site and CMS profiles: TOML data loaded, validated and looked up here.

A profile says where a site keeps its title, sapo, body, dates and authors (CSS selectors), how
its article URLs look, and which links on a listing page lead to articles. A site is data: the
extractor never branches on a site's name, it only reads a profile.

Each ``*.toml`` file in this package holds one or more ``[[profile]]`` tables. Several tables
with the same ``name`` are versions of one profile; ``valid_from`` says from which date a version
applies, so archived HTML is re-extracted with the profile of its time (``get(name, at=...)``).

``kind = "site"`` profiles are chosen by URL domain (``for_url``); ``kind = "cms"`` profiles are
chosen by fingerprint (``detect``): a generator meta tag, markers (CSS selectors) and script
snippets. Every selector is checked once at load; any mistake is a ConfigError naming the file
and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from scraper.dates import DAY_FIRST, DateOrder
from scraper.errors import ConfigError

__all__ = [
    "Fingerprint",
    "ProfileRegistry",
    "Selectors",
    "SiteProfile",
    "load_profiles",
    "parse_profiles",
]

PROFILE_DIR = Path(__file__).resolve().parent
SELECTOR_FIELDS = (
    "title",
    "sapo",
    "body",
    "published",
    "updated",
    "authors",
    "category",
    "tags",
    "images",
    "source",
    "drop",
)
_EPOCH = date(1970, 1, 1)
_PROBE = LexborHTMLParser("<html><head></head><body><p>probe</p></body></html>")


@dataclass(frozen=True, slots=True)
class Selectors:
    """CSS selectors per field; each tuple is tried in order, the first that matches wins."""

    title: tuple[str, ...] = ()
    sapo: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    published: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    #: the credit line ("Nguồn: ...", "Theo ...") kept in Article.source
    source: tuple[str, ...] = ()
    #: removed from the body before its text is read (related boxes, share bars, ...)
    drop: tuple[str, ...] = ()


#: a selector's first match in the page (``LexborHTMLParser.css_first``, or a faster equivalent)
FindFirst = Callable[[str], LexborNode | None]


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """How a CMS shows itself: any generator substring, CSS markers, inline-script snippets."""

    generator: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()
    scripts: tuple[str, ...] = ()

    def score(self, tree: LexborHTMLParser, first: FindFirst | None = None) -> int:
        """``first``: how to run a marker's selector (the extractor's, which skips the
        alternatives the page's class names rule out); ``tree.css_first`` by default."""
        first = first or tree.css_first
        points = 0
        if self.generator:
            for meta in tree.css('meta[name="generator" i]'):
                content = (meta.attributes.get("content") or "").lower()
                if any(g.lower() in content for g in self.generator):
                    points += 3
                    break
        points += sum(1 for sel in self.markers if first(sel) is not None)
        if self.scripts and any(tree.scripts_contain(s) for s in self.scripts):
            points += 2
        return points


@dataclass(frozen=True, slots=True)
class SiteProfile:
    """One version of a site's (or a CMS's) profile."""

    name: str
    version: int
    valid_from: date
    domains: tuple[str, ...]
    kind: Literal["site", "cms"]
    #: "notes" = written from research notes only; "page" = checked against a real page
    based_on: str | None
    language: str | None
    selectors: Selectors
    listing_links: tuple[str, ...] = ()
    article_pattern: re.Pattern[str] | None = None
    next_page: tuple[str, ...] = ()
    fingerprint: Fingerprint = field(default_factory=Fingerprint)
    source_file: str = ""
    #: how the site writes numeric dates: "dmy" (5/9/2026 is 5 September, the Vietnamese
    #: default) or "mdy"; read by feed, sitemap and page date parsing
    date_order: DateOrder = DAY_FIRST
    #: the site's home page (default: https:// + the first domain)
    home: str | None = None
    #: where the site publishes its articles: what a ``[[site]]`` entry uses unless it overrides
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    listings: tuple[str, ...] = ()
    #: other domains whose pages are this site's own (a paper it absorbed, its old domain)
    aliases: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """What ``Article.extractor`` records: ``profile:<name>@<version>``."""
        return f"profile:{self.name}@{self.version}"

    def matches_domain(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.domains)

    @property
    def base_url(self) -> str | None:
        if self.home:
            return self.home
        return f"https://{self.domains[0]}/" if self.domains else None

    def is_article_url(self, url: str) -> bool:
        return bool(self.article_pattern and self.article_pattern.search(url))


class ProfileRegistry:
    """All profile versions, by name; lookups by name, URL domain or CMS fingerprint."""

    def __init__(self, profiles: Iterable[SiteProfile]) -> None:
        by_name: dict[str, list[SiteProfile]] = {}
        for profile in profiles:
            by_name.setdefault(profile.name, []).append(profile)
        for name, versions in by_name.items():
            versions.sort(key=lambda p: (p.valid_from, p.version))
            seen: set[int] = set()
            for p in versions:
                if p.version in seen:
                    raise ConfigError(
                        f"{p.source_file}: profile {name!r} has version {p.version} twice"
                    )
                seen.add(p.version)
        self._by_name = by_name

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def versions(self, name: str) -> list[SiteProfile]:
        return list(self._versions(name))

    def _versions(self, name: str) -> list[SiteProfile]:
        try:
            return self._by_name[name]
        except KeyError:
            raise ConfigError(
                f"unknown profile {name!r} (known: {', '.join(self.names())})"
            ) from None

    def get(self, name: str, at: date | None = None) -> SiteProfile:
        """The version of ``name`` valid at ``at`` (the newest when ``at`` is None).

        A date before the first version gets the first version: it is the oldest layout we know.
        """
        versions = self._versions(name)
        if at is None:
            return versions[-1]
        chosen = versions[0]
        for p in versions:
            if p.valid_from <= at:
                chosen = p
        return chosen

    def for_url(self, url: str, at: date | None = None) -> SiteProfile | None:
        """The site profile whose domains cover the URL's host, or None."""
        host = urlsplit(url).hostname or ""
        if not host:
            return None
        best: str | None = None
        best_len = -1
        for name, versions in self._by_name.items():
            head = versions[-1]
            if head.kind != "site":
                continue
            for d in head.domains:
                if (host == d or host.endswith("." + d)) and len(d) > best_len:
                    best, best_len = name, len(d)
        return self.get(best, at) if best is not None else None

    def resolve(
        self,
        url: str,
        *,
        name: str | None = None,
        at: date | None = None,
        page: LexborHTMLParser | str | None = None,
        first: FindFirst | None = None,
    ) -> SiteProfile | None:
        """The one lookup every caller uses: the named profile, else the site profile of the
        URL's domain, else (given the page) the CMS profile whose fingerprint fits; None means
        the generic extractor."""
        if name:
            return self.get(name, at)
        found = self.for_url(url, at)
        if found is None and page is not None:
            found = self.detect(page, at, first)
        return found

    def detect(
        self,
        tree_or_html: LexborHTMLParser | str,
        at: date | None = None,
        first: FindFirst | None = None,
    ) -> SiteProfile | None:
        """The CMS profile whose fingerprint fits the page best (score >= 2), or None."""
        # here, not at the top: the extractor, which discover.html's limits live beside,
        # imports this module
        from scraper.discover.html import parse_html

        tree = (
            tree_or_html
            if isinstance(tree_or_html, LexborHTMLParser)
            else parse_html(tree_or_html)  # the limits of every parse of web input
        )
        best: SiteProfile | None = None
        best_score = 1
        for versions in self._by_name.values():
            profile = versions[-1]
            if profile.kind != "cms":
                continue
            score = profile.fingerprint.score(tree, first)
            if score > best_score:
                best, best_score = profile, score
        return self.get(best.name, at) if best is not None else None


# --- loading -------------------------------------------------------------------------------


def _err(source: str, key: str, message: str) -> ConfigError:
    return ConfigError(f"{source}: {key}: {message}")


def _check_selector(source: str, key: str, selector: object) -> str:
    if not isinstance(selector, str) or not selector.strip():
        raise _err(source, key, f"expected a non-empty CSS selector string, got {selector!r}")
    try:
        _PROBE.css(selector)
    except SelectolaxError as exc:
        raise _err(source, key, f"invalid CSS selector {selector!r}") from exc
    return selector.strip()


def _selector_list(source: str, key: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise _err(source, key, f"expected a list of CSS selectors, got {type(value).__name__}")
    return tuple(_check_selector(source, f"{key}[{i}]", s) for i, s in enumerate(value))


def _str_list(source: str, key: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _err(source, key, "expected a list of non-empty strings")
    return tuple(value)


_KNOWN_KEYS = {
    "name",
    "version",
    "valid_from",
    "domains",
    "kind",
    "based_on",
    "language",
    "selectors",
    "discovery",
    "fingerprint",
    "notes",
    "date_order",
}


def _profile_from_table(source: str, index: int, table: Mapping[str, Any]) -> SiteProfile:
    where = f"profile[{index}]"
    unknown = set(table) - _KNOWN_KEYS
    if unknown:
        raise _err(source, f"{where}.{sorted(unknown)[0]}", "unknown key")
    name = table.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name):
        raise _err(source, f"{where}.name", f"expected a lowercase identifier, got {name!r}")
    where = f"profile[{name}]"
    version = table.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _err(source, f"{where}.version", f"expected a positive integer, got {version!r}")
    valid_from = table.get("valid_from", _EPOCH)
    if not isinstance(valid_from, date):
        raise _err(source, f"{where}.valid_from", f"expected a TOML date, got {valid_from!r}")
    kind = table.get("kind", "site")
    if kind not in ("site", "cms"):
        raise _err(source, f"{where}.kind", f"expected 'site' or 'cms', got {kind!r}")
    domains = tuple(d.lower() for d in _str_list(source, f"{where}.domains", table.get("domains")))
    if kind == "site" and not domains:
        raise _err(source, f"{where}.domains", "a site profile needs at least one domain")
    based_on = table.get("based_on")
    if based_on is not None and based_on not in ("notes", "page"):
        raise _err(source, f"{where}.based_on", f"expected 'notes' or 'page', got {based_on!r}")
    language = table.get("language")
    if language is not None and not isinstance(language, str):
        raise _err(source, f"{where}.language", "expected a string")

    date_order = table.get("date_order", DAY_FIRST)
    if date_order not in ("dmy", "mdy"):
        raise _err(source, f"{where}.date_order", f"expected 'dmy' or 'mdy', got {date_order!r}")

    sel_table = table.get("selectors", {})
    if not isinstance(sel_table, dict):
        raise _err(source, f"{where}.selectors", "expected a table")
    bad = set(sel_table) - set(SELECTOR_FIELDS)
    if bad:
        raise _err(source, f"{where}.selectors.{sorted(bad)[0]}", "unknown selector field")
    selectors = Selectors(
        **{
            f: _selector_list(source, f"{where}.selectors.{f}", sel_table.get(f))
            for f in SELECTOR_FIELDS
        }
    )

    disc = table.get("discovery", {})
    if not isinstance(disc, dict):
        raise _err(source, f"{where}.discovery", "expected a table")
    bad = set(disc) - {
        "listing_links", "article_pattern", "next_page", "home", "feeds", "sitemaps", "listings",
        "aliases",
    }  # fmt: skip
    if bad:
        raise _err(source, f"{where}.discovery.{sorted(bad)[0]}", "unknown key")
    pattern_text = disc.get("article_pattern")
    pattern: re.Pattern[str] | None = None
    if pattern_text is not None:
        if not isinstance(pattern_text, str):
            raise _err(source, f"{where}.discovery.article_pattern", "expected a string")
        try:
            pattern = re.compile(pattern_text)
        except re.error as exc:
            raise _err(
                source, f"{where}.discovery.article_pattern", f"invalid regex: {exc}"
            ) from exc

    fp = table.get("fingerprint", {})
    if not isinstance(fp, dict):
        raise _err(source, f"{where}.fingerprint", "expected a table")
    bad = set(fp) - {"generator", "markers", "scripts"}
    if bad:
        raise _err(source, f"{where}.fingerprint.{sorted(bad)[0]}", "unknown key")
    fingerprint = Fingerprint(
        generator=_str_list(source, f"{where}.fingerprint.generator", fp.get("generator")),
        markers=_selector_list(source, f"{where}.fingerprint.markers", fp.get("markers")),
        scripts=_str_list(source, f"{where}.fingerprint.scripts", fp.get("scripts")),
    )
    if kind == "cms" and not (fingerprint.generator or fingerprint.markers or fingerprint.scripts):
        raise _err(source, f"{where}.fingerprint", "a cms profile needs a fingerprint")

    return SiteProfile(
        name=name,
        version=version,
        valid_from=valid_from,
        domains=domains,
        kind=kind,
        based_on=based_on,
        language=language,
        selectors=selectors,
        listing_links=_selector_list(
            source, f"{where}.discovery.listing_links", disc.get("listing_links")
        ),
        article_pattern=pattern,
        next_page=_selector_list(source, f"{where}.discovery.next_page", disc.get("next_page")),
        fingerprint=fingerprint,
        source_file=source,
        date_order=date_order,
        home=_url(source, f"{where}.discovery.home", disc.get("home")),
        feeds=_urls(source, f"{where}.discovery.feeds", disc.get("feeds")),
        sitemaps=_urls(source, f"{where}.discovery.sitemaps", disc.get("sitemaps")),
        listings=_urls(source, f"{where}.discovery.listings", disc.get("listings")),
        aliases=_hosts(source, f"{where}.discovery.aliases", disc.get("aliases")),
    )


_HOST_RE = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$")


def _hosts(source: str, key: str, value: object) -> tuple[str, ...]:
    """Host names (``baobinhphuoc.com.vn``), lower-cased; a URL or a path is an error."""
    hosts = tuple(h.strip().lower().rstrip(".") for h in _str_list(source, key, value))
    for i, host in enumerate(hosts):
        if not _HOST_RE.match(host):
            raise _err(
                source,
                f"{key}[{i}]",
                f"expected a host name like 'baodongnai.com.vn', got {host!r}",
            )
    return hosts


def _url(source: str, key: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.match(r"https?://[^/\s]+", value):
        raise _err(source, key, f"expected an http(s) URL, got {value!r}")
    return value


def _urls(source: str, key: str, value: object) -> tuple[str, ...]:
    return tuple(
        _url(source, f"{key}[{i}]", v) or "" for i, v in enumerate(_str_list(source, key, value))
    )


def parse_profiles(text: str, source: str = "<string>") -> list[SiteProfile]:
    """Parse one TOML document of ``[[profile]]`` tables."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from exc
    tables = data.get("profile")
    extra = set(data) - {"profile"}
    if extra:
        raise _err(source, sorted(extra)[0], "unknown top-level key (expected [[profile]])")
    if not isinstance(tables, list) or not tables:
        raise _err(source, "profile", "expected at least one [[profile]] table")
    return [_profile_from_table(source, i, t) for i, t in enumerate(tables)]


def _load_dir(directory: Path) -> ProfileRegistry:
    profiles: list[SiteProfile] = []
    for path in sorted(directory.glob("*.toml")):
        profiles.extend(parse_profiles(path.read_text(encoding="utf-8"), source=path.name))
    return ProfileRegistry(profiles)


@lru_cache(maxsize=8)
def _cached(directory: Path) -> ProfileRegistry:
    return _load_dir(directory)


def load_profiles(directory: Path | str | None = None) -> ProfileRegistry:
    """The registry of every profile TOML in ``directory`` (default: the shipped ones), cached."""
    return _cached(Path(directory).resolve() if directory is not None else PROFILE_DIR)
