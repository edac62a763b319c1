"""sources.toml: the daemon's configuration, validated at load.

Every error names the file and the key (``sources.toml: site[2].every: ...``) and raises
ConfigError; the CLI turns it into one line and exit status 2. Unknown keys are errors, so a typo
never silently disables a setting.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scraper.errors import ConfigError
from scraper.urls import SlashMode, WwwMode

DEFAULT_CONTACT = "https://github.com/vnnews/vnnews"


def user_agent_for(contact: str) -> str:
    """The User-Agent names vnnews and how to reach whoever runs it."""
    return f"vnnews/0.1 (+{contact}; archiving Vietnamese provincial news)"


DEFAULT_USER_AGENT = user_agent_for(DEFAULT_CONTACT)

_DURATION_RE = re.compile(r"^\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?\s*$")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def parse_duration(value: str | int | float) -> float:
    """``"15m"`` → 900.0; ``"1h30m"``, ``"2d"``, ``"45s"``; a bare number is seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like '15m'")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("must not be negative")
        return float(value)
    m = _DURATION_RE.match(value)
    if not m or not any(m.groups()):
        raise ValueError(f"bad duration {value!r} (use e.g. '30s', '15m', '1h', '1d', '1h30m')")
    d, h, mi, s = (int(g or 0) for g in m.groups())
    return float(d * 86400 + h * 3600 + mi * 60 + s)


@dataclass(frozen=True)
class FetchConfig:
    user_agent: str = DEFAULT_USER_AGENT
    contact: str = DEFAULT_CONTACT
    min_delay: float = 2.0
    timeout: float = 30.0
    max_bytes: int = 10_000_000
    respect_robots: bool = True
    allow_hosts: tuple[str, ...] = ()
    max_retries: int = 2
    connect_timeout: float = 10.0
    max_redirects: int = 5
    #: Heritrix's delayFactor: wait at least k x the host's last response time between requests
    delay_factor: float = 5.0
    #: robots.txt Crawl-delay is honoured up to this many seconds
    crawl_delay_cap: float = 300.0
    robots_ttl: float = 3600.0


@dataclass(frozen=True)
class DaemonConfig:
    #: how often each site's worker drains due URLs (retries, recrawls) between discoveries
    drain_every: float = 60.0
    #: at most this many URLs fetched per site per pass
    batch: int = 200
    #: random delay added to each scheduled run, so restarts do not fire every site at once
    jitter: float = 30.0


@dataclass(frozen=True)
class SiteConfig:
    name: str
    base_url: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    listings: tuple[str, ...] = ()
    article_pattern: re.Pattern[str] | None = None
    every: float = 900.0
    #: scheduled discovery skips items whose feed/sitemap date is older than this (backfill does not)
    horizon: float = 30 * 86400.0
    #: also read the sitemaps that robots.txt names (Sitemap: lines) on each pass
    robots_sitemaps: bool = True
    #: canonicalization rules for this site's URLs: "keep" | "strip" | "add"
    www: WwwMode = "keep"
    trailing_slash: SlashMode = "keep"
    profile: str | None = None
    min_delay: float | None = None
    respect_robots: bool | None = None
    enabled: bool = True

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""


@dataclass(frozen=True)
class Config:
    path: str
    fetch: FetchConfig = field(default_factory=FetchConfig)
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    sites: tuple[SiteConfig, ...] = ()

    def site(self, name: str) -> SiteConfig:
        for site in self.sites:
            if site.name == name:
                return site
        known = ", ".join(s.name for s in self.sites) or "none"
        raise ConfigError(f"{self.path}: no site named {name!r} (known: {known})")


class _Reader:
    """Typed access to one TOML table that remembers where it is, for error messages."""

    def __init__(self, path: str, where: str, table: Mapping[str, Any]) -> None:
        self.path, self.where, self.table = path, where, table

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def fail(self, name: str, message: str) -> ConfigError:
        return ConfigError(f"{self.path}: {self.key(name)}: {message}")

    def check_unknown(self, allowed: set[str]) -> None:
        for name in self.table:
            if name not in allowed:
                hint = f" (allowed: {', '.join(sorted(allowed))})"
                raise self.fail(name, "unknown key" + hint)

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        if name not in self.table:
            return default
        value = self.table[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise self.fail(name, f"expected {_kind_name(kinds)}, got a boolean")
        if not isinstance(value, kinds):
            raise self.fail(name, f"expected {_kind_name(kinds)}, got {type(value).__name__}")
        return value

    def duration(self, name: str, default: float | None) -> float | None:
        value = self.get(name, (str, int, float))
        if value is None:
            return default
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise self.fail(name, str(exc)) from None

    def url(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise self.fail(name, f"expected a URL string, got {type(value).__name__}")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self.fail(name, f"not an http(s) URL: {value!r}")
        return value

    def urls(self, name: str) -> tuple[str, ...]:
        value = self.get(name, list, [])
        return tuple(self.url(f"{name}[{i}]", v) for i, v in enumerate(value))


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "true/false",
        list: "a list",
    }
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


def _fetch(r: _Reader) -> FetchConfig:
    r.check_unknown(
        {
            "user_agent",
            "contact",
            "min_delay",
            "timeout",
            "max_bytes",
            "respect_robots",
            "allow_hosts",
            "max_retries",
            "connect_timeout",
            "max_redirects",
            "delay_factor",
            "crawl_delay_cap",
            "robots_ttl",
        }
    )
    base = FetchConfig()
    hosts = r.get("allow_hosts", list, [])
    for i, host in enumerate(hosts):
        if not isinstance(host, str) or not host:
            raise r.fail(f"allow_hosts[{i}]", "expected a host name or IP address")
    max_bytes = r.get("max_bytes", int, base.max_bytes)
    if max_bytes <= 0:
        raise r.fail("max_bytes", "must be positive")
    max_retries = r.get("max_retries", int, base.max_retries)
    if not 0 <= max_retries <= 10:
        raise r.fail("max_retries", "must be between 0 and 10")
    timeout = r.duration("timeout", base.timeout)
    if not timeout:
        raise r.fail("timeout", "must be positive")
    contact = r.get("contact", str, base.contact)
    if "contact" in r.table and not contact.startswith(("http://", "https://", "mailto:")):
        raise r.fail("contact", f"expected an http(s) or mailto: URL, got {contact!r}")
    max_redirects = r.get("max_redirects", int, base.max_redirects)
    if not 0 <= max_redirects <= 20:
        raise r.fail("max_redirects", "must be between 0 and 20")
    delay_factor = r.get("delay_factor", (int, float), base.delay_factor)
    if delay_factor < 0:
        raise r.fail("delay_factor", "must not be negative")
    return FetchConfig(
        user_agent=r.get("user_agent", str, user_agent_for(contact)),
        contact=contact,
        connect_timeout=r.duration("connect_timeout", base.connect_timeout) or base.connect_timeout,
        max_redirects=max_redirects,
        delay_factor=float(delay_factor),
        crawl_delay_cap=r.duration("crawl_delay_cap", base.crawl_delay_cap) or 0.0,
        robots_ttl=r.duration("robots_ttl", base.robots_ttl) or base.robots_ttl,
        min_delay=r.duration("min_delay", base.min_delay) or 0.0,
        timeout=timeout,
        max_bytes=max_bytes,
        respect_robots=r.get("respect_robots", bool, base.respect_robots),
        allow_hosts=tuple(h.lower() for h in hosts),
        max_retries=max_retries,
    )


def _daemon(r: _Reader) -> DaemonConfig:
    r.check_unknown({"drain_every", "batch", "jitter"})
    base = DaemonConfig()
    batch = r.get("batch", int, base.batch)
    if batch <= 0:
        raise r.fail("batch", "must be positive")
    return DaemonConfig(
        drain_every=r.duration("drain_every", base.drain_every) or base.drain_every,
        batch=batch,
        jitter=r.duration("jitter", base.jitter) or 0.0,
    )


_SITE_KEYS = {
    "name",
    "base_url",
    "feeds",
    "sitemaps",
    "listings",
    "article_pattern",
    "every",
    "profile",
    "min_delay",
    "respect_robots",
    "enabled",
    "horizon",
    "www",
    "trailing_slash",
    "robots_sitemaps",
}
_URL_RULES = ("keep", "strip", "add")


def _site(r: _Reader) -> SiteConfig:
    r.check_unknown(_SITE_KEYS)
    name = r.get("name", str)
    if not name:
        raise r.fail("name", "missing (every [[site]] needs a name)")
    if not _NAME_RE.match(name):
        raise r.fail("name", f"{name!r}: use lower-case letters, digits, '.', '-', '_'")
    if "base_url" not in r.table:
        raise r.fail("base_url", "missing")
    base_url = r.url("base_url", r.table["base_url"])
    pattern_src = r.get("article_pattern", str)
    pattern = None
    if pattern_src is not None:
        try:
            pattern = re.compile(pattern_src)
        except re.error as exc:
            raise r.fail("article_pattern", f"bad regular expression: {exc}") from None
    site = SiteConfig(
        name=name,
        base_url=base_url,
        feeds=r.urls("feeds"),
        sitemaps=r.urls("sitemaps"),
        listings=r.urls("listings"),
        article_pattern=pattern,
        every=r.duration("every", 900.0) or 0.0,
        horizon=r.duration("horizon", 30 * 86400.0) or 0.0,
        robots_sitemaps=r.get("robots_sitemaps", bool, True),
        www=_choice(r, "www", _URL_RULES),
        trailing_slash=_choice(r, "trailing_slash", _URL_RULES),
        profile=r.get("profile", str),
        min_delay=r.duration("min_delay", None),
        respect_robots=r.get("respect_robots", bool),
        enabled=r.get("enabled", bool, True),
    )
    if site.every < 60:
        raise r.fail("every", "must be at least 1m (be polite)")
    if not (site.feeds or site.sitemaps or site.listings):
        raise r.fail("feeds", "a site needs at least one of feeds, sitemaps, listings")
    return site


def _choice(r: _Reader, name: str, allowed: tuple[str, ...]) -> Any:
    value = r.get(name, str, allowed[0])
    if value not in allowed:
        raise r.fail(name, f"expected one of {', '.join(allowed)}, got {value!r}")
    return value


def parse_config(text: str, path: str = "sources.toml") -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    top = _Reader(path, "", data)
    top.check_unknown({"fetch", "daemon", "site"})
    fetch = _fetch(_Reader(path, "fetch", top.get("fetch", dict, {})))
    daemon = _daemon(_Reader(path, "daemon", top.get("daemon", dict, {})))
    sites = []
    seen: set[str] = set()
    for i, table in enumerate(top.get("site", list, [])):
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: site[{i}]: expected a [[site]] table")
        site = _site(_Reader(path, f"site[{i}]", table))
        if site.name in seen:
            raise ConfigError(f"{path}: site[{i}].name: duplicate site name {site.name!r}")
        seen.add(site.name)
        sites.append(site)
    _check_profiles(path, sites)
    return Config(path=path, fetch=fetch, daemon=daemon, sites=tuple(sites))


def _check_profiles(path: str, sites: list[SiteConfig]) -> None:
    if not any(s.profile for s in sites):
        return
    from scraper.profiles import load_profiles

    names = set(load_profiles().names())
    for i, site in enumerate(sites):
        if site.profile and site.profile not in names:
            raise ConfigError(
                f"{path}: site[{i}].profile: unknown profile {site.profile!r} "
                f"(known: {', '.join(sorted(names))})"
            )


def load_config(path: str | Path) -> Config:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read config: {exc}") from None
    return parse_config(text, str(p))
