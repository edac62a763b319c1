"""Sites that move, pure policy: which domains are a site's own, which redirect hops a fetch for
it takes, which hops are moves, and which profile and article pattern a URL gets.

Domains are compared by registrable domain (``scraper.urls.registrable_domain``): ``www.`` and
``http``→``https`` never count. A site owns its home's domain and its ``aliases``; with
``follow_moves = true`` also every domain it was seen moving to. A fetch for a site that does not
follow its moves stops at a hop from one of its domains to a foreign one (the fetcher's
``follow=``), so nothing is requested from the new domain; the hop is recorded as a move.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from urllib.parse import urlsplit

from jobs.config import SiteConfig
from scraper.fetch import FetchResult
from scraper.profiles import SiteProfile, load_profiles
from scraper.urls import host_of, registrable_domain, same_site

__all__ = [
    "MoveSeen",
    "find_move",
    "home_domain",
    "is_article_url",
    "is_own",
    "landed_on_home",
    "listing_profile",
    "may_follow",
    "own_domains",
    "page_profile",
]


@dataclass(frozen=True)
class MoveSeen:
    """A redirect hop that left the site's home domain."""

    from_host: str
    to_host: str
    evidence_url: str


def _domain(url_or_host: str) -> str | None:
    try:
        return registrable_domain(url_or_host)
    except ValueError:
        return None


@lru_cache(maxsize=256)
def home_domain(site: SiteConfig) -> str:
    return _domain(site.base_url) or site.host


@lru_cache(maxsize=256)
def _configured(site: SiteConfig) -> frozenset[str]:
    return frozenset({home_domain(site)} | {d for d in map(_domain, site.aliases) if d})


def own_domains(site: SiteConfig, moved_to: Collection[str] = ()) -> frozenset[str]:
    """The registrable domains whose URLs are the site's: its home's, its aliases', and (with
    ``follow_moves``) those it moved to."""
    own = _configured(site)
    return own | frozenset(moved_to) if site.follow_moves and moved_to else own


def may_follow(site: SiteConfig, from_url: str, to_url: str) -> bool:
    """Does a fetch for ``site`` take this redirect hop? Every hop within one registrable domain
    or into one of the site's own domains; a hop from its own domain to a foreign one only with
    ``follow_moves``. A hop between two foreign hosts is not ours to judge (a feed proxy)."""
    if site.follow_moves:
        return True
    a, b = _domain(from_url), _domain(to_url)
    if a is None or b is None or a == b:
        return True  # the fetcher's own checks decide about an unusable URL
    own = own_domains(site)
    return b in own or a not in own


def find_move(site: SiteConfig, result: FetchResult) -> MoveSeen | None:
    """The first hop of the fetch's redirect chain (a held target included) that leaves the
    site's home domain for another registrable domain, or None."""
    home = home_domain(site)
    chain = [result.url, *result.redirects, *([result.held] if result.held else [])]
    for a, b in pairwise(chain):
        da, db = _domain(a), _domain(b)
        if da == home and db is not None and db != home:
            return MoveSeen(host_of(a), host_of(b), a)
    return None


def is_own(site: SiteConfig, url: str, moved_to: Collection[str] = ()) -> bool:
    """Is ``url`` one of the site's pages (its home host, an alias, a domain it followed)?"""
    if same_site(url, site.base_url):
        return True
    domain = _domain(url)
    return domain is not None and domain in own_domains(site, moved_to)


def _foreign_profile(site: SiteConfig, url: str) -> SiteProfile | None:
    if _domain(url) == home_domain(site):
        return None
    return load_profiles().for_url(url)


def is_article_url(site: SiteConfig, url: str) -> bool:
    """Does ``url`` look like one of the site's articles? On its home domain: the site's
    pattern. On another of its domains: that domain's profile's pattern if it has one (a paper
    the site absorbed, or moved to), else the site's pattern read as if the URL were on the
    home host (an alias is the same site under another name; site patterns name their host)."""
    pattern = site.article_pattern
    if (urlsplit(url).hostname or "").removeprefix("www.") == site.host.removeprefix("www."):
        return pattern is None or bool(pattern.search(url))  # the common case, kept cheap
    other = _foreign_profile(site, url)
    if other is not None and other.article_pattern is not None:
        return bool(other.article_pattern.search(url))
    if pattern is None or pattern.search(url):
        return True
    if _domain(url) == home_domain(site):
        return False
    home = urlsplit(site.base_url)
    return bool(
        pattern.search(urlsplit(url)._replace(scheme=home.scheme, netloc=home.netloc).geturl())
    )


def listing_profile(site: SiteConfig, profile: SiteProfile | None, url: str) -> SiteProfile | None:
    """The profile whose ``listing_links`` read a listing page served from ``url``: that
    domain's own profile off the home domain, if there is one; else the site's."""
    return _foreign_profile(site, url) or profile


def page_profile(site: SiteConfig, profile: SiteProfile | None, url: str) -> SiteProfile | None:
    """The profile to extract a page served from ``url`` with: the site's on its home domain;
    elsewhere None, so extraction resolves one by the URL it was served from (that domain's
    profile, a CMS fingerprint, or the generic extractor)."""
    return profile if _domain(url) == home_domain(site) else None


def landed_on_home(result: FetchResult) -> bool:
    """Did an article URL redirect to a site's home page (what closed sites do)?"""
    if not result.redirects:
        return False
    asked, final = urlsplit(result.url), urlsplit(result.final_url)
    return asked.path not in ("", "/") and final.path in ("", "/") and not final.query
