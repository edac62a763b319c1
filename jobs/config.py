"""sources.toml: the daemon's configuration, validated at load.

Every error is a ConfigError that names the file and the key (``sources.toml: site[2].every:
...``), and a site's errors end with the site's name (``; in site 'baolangson'``); the CLI turns
it into one line and exit status 2. Unknown keys are errors, so a typo
never silently disables a setting. Every number has a finite range (``RANGES``): TOML has ``inf``
and ``nan``, and ``delay_factor = inf`` hangs a crawl, ``timeout = nan`` fails every fetch and
``horizon = 1e300`` overflows a date.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scraper.errors import ConfigError
from scraper.fetch.identity import DEFAULT_CONTACT, DEFAULT_USER_AGENT, user_agent_for
from scraper.fetch.politeness import DEFAULT_DELAY_FACTOR, DEFAULT_MAX_DELAY
from scraper.profiles import SiteProfile, load_profiles
from scraper.urls import SlashMode, WwwMode, canonicalize

# each part may have decimals: "0.5s", "1.5h" (min_delay is often under a second). Possessive:
# a long run of digits with no unit was tried split every way between the four parts (a 60 KB
# value held the parser for minutes)
_NUM = r"(\d++(?:\.\d++)?+)"
_DURATION_RE = re.compile(
    rf"^\s*+(?:{_NUM}d)?+\s*+(?:{_NUM}h)?+\s*+(?:{_NUM}m)?+\s*+(?:{_NUM}s)?+\s*+$", re.ASCII
)
_SECONDS_RE = re.compile(r"^\d+(?:\.\d+)?$", re.ASCII)
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def parse_duration(value: str | int | float) -> float:
    """``"15m"`` → 900.0; ``"1h30m"``, ``"2d"``, ``"45s"``, ``"0.5s"``; a bare number is
    seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like '15m'")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("must not be negative")
        try:
            return float(value)
        except OverflowError:  # an integer of hundreds of digits
            raise ValueError(f"too large: {_shown(value)}") from None
    text = value.strip()
    if _SECONDS_RE.match(text):  # "3600", "0.5": seconds, as a bare number would be
        seconds = float(text)
    else:
        m = _DURATION_RE.match(value)
        if not m or not any(m.groups()):
            raise ValueError(
                f"bad duration {_shown(value)} (use e.g. '0.5s', '30s', '15m', '1h', '1d', '1h30m')"
            )
        d, h, mi, s = (float(g or 0) for g in m.groups())
        seconds = d * 86400 + h * 3600 + mi * 60 + s
    if seconds == float("inf"):
        raise ValueError(f"duration {value!r} is too long")
    return seconds


DAY = 86400.0
#: where the crawler extracts pages: jobs.cpupool.PoolKind
CPU_POOLS = ("process", "thread", "inline")

#: key → (lowest, highest) allowed value; durations in seconds
RANGES: dict[str, tuple[float, float]] = {
    "fetch.min_delay": (0, 3600),
    "fetch.timeout": (0.1, 3600),
    "fetch.connect_timeout": (0, 600),  # 0: the default
    "fetch.max_bytes": (1, 1_000_000_000),
    "fetch.max_retries": (0, 10),
    "fetch.max_redirects": (0, 20),
    "fetch.delay_factor": (0, 100),
    "fetch.crawl_delay_cap": (0, DAY),
    "fetch.robots_ttl": (0, 30 * DAY),  # 0: the default
    "fetch.max_delay": (0, 3600),  # 0: the response time adds nothing to the delay
    "daemon.drain_every": (0, DAY),  # 0: the default
    "daemon.batch": (1, 100_000),
    "daemon.jitter": (0, DAY),
    "daemon.stale_after": (60, 365 * DAY),
    "daemon.failing_after": (1, 1000),
    "daemon.rot_share": (0.01, 1),
    "daemon.rot_window": (5, 10_000),
    "daemon.log_stats_every": (0, DAY),  # 0: the default
    "site.stale_after": (60, 365 * DAY),
    "daemon.heartbeat": (0.1, 3600),
    "daemon.worker_stale_after": (0.5, DAY),
    "daemon.lease": (1, DAY),
    "daemon.cpu_workers": (0, 64),
    "site.every": (60, 30 * DAY),  # at least 1m: be polite
    "site.horizon": (0, 100 * 365 * DAY),  # 0: no horizon
    "site.min_delay": (0, 3600),
}


def check_range(key: str, value: float, *, duration: bool = False) -> str | None:
    """Why ``value`` is out of the range ``RANGES[key]`` allows (``nan``/``inf`` never are), or
    None; a ``duration`` is said as one ("between 1m and 30d"). Pure."""
    low, high = RANGES[key]
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        number = math.inf
    if not (math.isfinite(number) and low <= number <= high):
        if duration and math.isfinite(number):
            return f"must be between {span(low)} and {span(high)} (got {span(number)})"
        return (
            f"must be a finite number between {_plain(low)} and {_plain(high)} "
            f"(got {_shown(value)})"
        )
    return None


def _shown(value: object) -> str:
    """``repr(value)``, cut after 40 characters: an error line shows a hostile value's start."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:40]}..."


#: a site's ``horizon`` unless it sets one
DEFAULT_HORIZON = 30 * DAY


def _plain(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def span(seconds: float) -> str:
    """``seconds`` as the config writes a duration: 90 → ``1m30s``, 2592000.5 → ``30d0.5s``;
    beyond any range (a thousand years) or not positive, plain seconds: ``1e+300s``."""
    if not 0 < seconds < 1000 * 365 * DAY:
        return f"{seconds:g}s"
    rest, out = int(seconds), ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if rest >= size:
            out += f"{rest // size}{unit}"
            rest %= size
    left = rest + (seconds - int(seconds))
    return out + f"{left:g}s" if left or not out else out


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
    delay_factor: float = DEFAULT_DELAY_FACTOR
    #: robots.txt Crawl-delay is honoured up to this many seconds
    crawl_delay_cap: float = 300.0
    robots_ttl: float = 3600.0
    #: the response-time part of the politeness delay is capped at this (Heritrix's maxDelayMs)
    max_delay: float = DEFAULT_MAX_DELAY


@dataclass(frozen=True)
class DaemonConfig:
    #: how often each site's worker drains due URLs (retries, recrawls) between discoveries
    drain_every: float = 60.0
    #: at most this many URLs fetched per site per pass
    batch: int = 200
    #: random delay added to each scheduled run, so restarts do not fire every site at once
    jitter: float = 30.0
    #: a site without a new article for this long (or its own usual gap, if longer) is stale
    stale_after: float = 2 * DAY
    #: this many failing passes in a row make a site ``failing``
    failing_after: int = 2
    #: a site whose newest article pages are bad in over this share is ``rotting``
    rot_share: float = 0.5
    #: how many of a site's newest article pages the rot alarm judges
    rot_window: int = 50
    #: how often the daemon logs one summary line (pages/min, new articles, errors)
    log_stats_every: float = 300.0
    #: how often a process that claims URLs refreshes its ``workers`` row (and runs recovery)
    heartbeat: float = 15.0
    #: a worker silent for longer is dead: its leased URLs go back to the queue, its open
    #: ``crawl_runs`` are closed as interrupted
    worker_stale_after: float = 60.0
    #: a claimed URL comes due again after this even if its worker still looks alive (backstop)
    lease: float = 900.0
    #: processes that extract, hash and compress fetched pages (0: on the event loop thread)
    cpu_workers: int = field(default_factory=lambda: min(os.cpu_count() or 1, 4))
    #: "process" (every core), "thread" (overlaps fetching, one core) or "inline"
    cpu_pool: str = "process"


@dataclass(frozen=True)
class SiteConfig:
    name: str
    base_url: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    listings: tuple[str, ...] = ()
    article_pattern: re.Pattern[str] | None = None
    every: float = 900.0
    #: discovery (run, crawl) skips items whose feed/sitemap date is older than this (backfill
    #: does not)
    horizon: float = DEFAULT_HORIZON
    #: also read the sitemaps that robots.txt names (Sitemap: lines) on each pass
    robots_sitemaps: bool = True
    #: canonicalization rules for this site's URLs: "keep" | "strip" | "add"
    www: WwwMode = "keep"
    trailing_slash: SlashMode = "keep"
    profile: str | None = None
    min_delay: float | None = None
    respect_robots: bool | None = None
    enabled: bool = True
    #: follow the site when its pages redirect to another registrable domain (jobs/domains.py)
    follow_moves: bool = False
    #: other hosts whose pages are the site's own (a paper it absorbed, the domain it moved to)
    aliases: tuple[str, ...] = ()
    #: overrides ``[daemon] stale_after`` for this site
    stale_after: float | None = None

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    def site_profile(self) -> SiteProfile | None:
        """The newest version of the site's profile (resolved at load), or None: generic."""
        return load_profiles().get(self.profile) if self.profile else None

    def canonical(self, url: str) -> str | None:
        """The URL in the site's canonical form (its www and trailing-slash rules), or None if
        unusable."""
        try:
            return canonicalize(url, www=self.www, trailing_slash=self.trailing_slash)
        except ValueError:
            return None


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

    def __init__(self, path: str, where: str, table: Mapping[str, Any], *, named: str = "") -> None:
        self.path, self.where, self.table = path, where, table
        #: which table this is, said after the message: "; in site 'baolangson'"
        self.named = named

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def fail(self, name: str, message: str) -> ConfigError:
        named = self.named if name != "name" else ""  # the message shows the name already
        return ConfigError(f"{self.path}: {self.key(name)}: {message}{named}")

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

    def ranged(self, name: str, value: Any, *, duration: bool = False) -> Any:
        """``value`` of key ``name``, checked against ``RANGES`` (``site[2].x`` as ``site.x``)."""
        key = re.sub(r"\[\d+\]", "", self.key(name))
        why = check_range(key, value, duration=duration)
        if why is not None:
            raise self.fail(name, why)
        return value

    def number(self, name: str, default: float, *, integer: bool = False) -> Any:
        value = self.get(name, int if integer else (int, float), default)
        return self.ranged(name, value)

    def duration(self, name: str, default: float | None) -> float | None:
        value = self.get(name, (str, int, float))
        if value is None:
            return default
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise self.fail(name, str(exc)) from None
        return float(self.ranged(name, seconds, duration=True))

    def url(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise self.fail(name, f"expected a URL string, got {type(value).__name__}")
        try:
            parts = urlsplit(value)
            host = parts.hostname
            parts.port  # noqa: B018 (raises for a port out of range or not a number)
        except ValueError:  # "http://[": an unclosed IPv6 host; "http://a.vn:99999/"
            host = None
        if host is None or parts.scheme not in ("http", "https"):
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
            "max_delay",
        }
    )
    base = FetchConfig()
    hosts = r.get("allow_hosts", list, [])
    for i, host in enumerate(hosts):
        if not isinstance(host, str) or not host:
            raise r.fail(f"allow_hosts[{i}]", "expected a host name or IP address")
    max_bytes = r.number("max_bytes", base.max_bytes, integer=True)
    max_retries = r.number("max_retries", base.max_retries, integer=True)
    timeout = r.duration("timeout", base.timeout)
    contact = r.get("contact", str, base.contact)
    if "contact" in r.table and not contact.startswith(("http://", "https://", "mailto:")):
        raise r.fail("contact", f"expected an http(s) or mailto: URL, got {contact!r}")
    max_redirects = r.number("max_redirects", base.max_redirects, integer=True)
    delay_factor = r.number("delay_factor", base.delay_factor)
    return FetchConfig(
        user_agent=r.get("user_agent", str, user_agent_for(contact)),
        contact=contact,
        connect_timeout=r.duration("connect_timeout", base.connect_timeout) or base.connect_timeout,
        max_redirects=max_redirects,
        delay_factor=float(delay_factor),
        crawl_delay_cap=r.duration("crawl_delay_cap", base.crawl_delay_cap) or 0.0,
        robots_ttl=r.duration("robots_ttl", base.robots_ttl) or base.robots_ttl,
        max_delay=r.duration("max_delay", base.max_delay) or 0.0,
        min_delay=r.duration("min_delay", base.min_delay) or 0.0,
        timeout=timeout or base.timeout,
        max_bytes=max_bytes,
        respect_robots=r.get("respect_robots", bool, base.respect_robots),
        allow_hosts=tuple(h.lower() for h in hosts),
        max_retries=max_retries,
    )


def _daemon(r: _Reader) -> DaemonConfig:
    r.check_unknown(
        {"drain_every", "batch", "jitter", "stale_after", "failing_after", "rot_share",
         "rot_window", "log_stats_every", "heartbeat", "worker_stale_after", "lease",
         "cpu_workers", "cpu_pool"}
    )  # fmt: skip
    base = DaemonConfig()
    batch = r.number("batch", base.batch, integer=True)
    heartbeat = r.duration("heartbeat", base.heartbeat) or base.heartbeat
    worker_stale_after = (
        r.duration("worker_stale_after", base.worker_stale_after) or base.worker_stale_after
    )
    if worker_stale_after <= heartbeat:
        # a live worker would look dead between two heartbeats and lose its leases
        raise r.fail("worker_stale_after", f"must be longer than heartbeat ({heartbeat:g} s)")
    pool = r.get("cpu_pool", str, base.cpu_pool)
    if pool not in CPU_POOLS:
        raise r.fail("cpu_pool", f"expected one of {', '.join(CPU_POOLS)}, got {pool!r}")
    return DaemonConfig(
        drain_every=r.duration("drain_every", base.drain_every) or base.drain_every,
        batch=batch,
        jitter=r.duration("jitter", base.jitter) or 0.0,
        stale_after=r.duration("stale_after", base.stale_after) or base.stale_after,
        failing_after=r.number("failing_after", base.failing_after, integer=True),
        rot_share=float(r.number("rot_share", base.rot_share)),
        rot_window=r.number("rot_window", base.rot_window, integer=True),
        log_stats_every=r.duration("log_stats_every", base.log_stats_every) or base.log_stats_every,
        heartbeat=heartbeat,
        worker_stale_after=worker_stale_after,
        lease=r.duration("lease", base.lease) or base.lease,
        cpu_workers=r.number("cpu_workers", base.cpu_workers, integer=True),
        cpu_pool=pool,
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
    "follow_moves",
    "aliases",
    "stale_after",
}
_URL_RULES = ("keep", "strip", "add")


def _site(r: _Reader) -> SiteConfig:
    """A ``[[site]]`` entry over its profile: what the entry sets wins, the rest comes from the
    profile named by ``profile``, else the profile of the same name, else of the base URL's
    domain."""
    r.check_unknown(_SITE_KEYS)
    name = r.get("name", str)
    if not name:
        raise r.fail("name", "missing (every [[site]] needs a name)")
    if not _NAME_RE.match(name):
        raise r.fail("name", f"{_shown(name)}: use lower-case letters, digits, '.', '-', '_'")
    base_url = r.url("base_url", r.table["base_url"]) if "base_url" in r.table else None
    profile = _profile_of(r, name, base_url)
    if base_url is None:
        base_url = profile.base_url if profile else None
        if base_url is None:
            raise r.fail("base_url", f"missing (and no profile named {_shown(name)} gives one)")
    pattern_src = r.get("article_pattern", str)
    pattern = profile.article_pattern if profile else None
    if pattern_src is not None:
        try:
            pattern = re.compile(pattern_src)
        except re.error as exc:
            raise r.fail("article_pattern", f"bad regular expression: {exc}") from None
    site = SiteConfig(
        name=name,
        base_url=base_url,
        feeds=r.urls("feeds") if "feeds" in r.table else _from(profile, "feeds"),
        sitemaps=r.urls("sitemaps") if "sitemaps" in r.table else _from(profile, "sitemaps"),
        listings=r.urls("listings") if "listings" in r.table else _from(profile, "listings"),
        article_pattern=pattern,
        every=r.duration("every", 900.0) or 0.0,
        horizon=r.duration("horizon", DEFAULT_HORIZON) or 0.0,
        robots_sitemaps=r.get("robots_sitemaps", bool, True),
        www=_choice(r, "www", _URL_RULES),
        trailing_slash=_choice(r, "trailing_slash", _URL_RULES),
        profile=profile.name if profile else None,
        min_delay=r.duration("min_delay", None),
        respect_robots=r.get("respect_robots", bool),
        enabled=r.get("enabled", bool, True),
        follow_moves=r.get("follow_moves", bool, False),
        aliases=_hosts(r, "aliases") if "aliases" in r.table else _from(profile, "aliases"),
        stale_after=r.duration("stale_after", None),
    )
    if not (site.feeds or site.sitemaps or site.listings):
        raise r.fail("feeds", "a site needs at least one of feeds, sitemaps, listings")
    return site


def _profile_of(r: _Reader, name: str, base_url: str | None) -> SiteProfile | None:
    registry = load_profiles()
    explicit = r.get("profile", str)
    if explicit is not None:
        if explicit not in registry.names():
            known = ", ".join(registry.names())
            raise r.fail("profile", f"unknown profile {explicit!r} (known: {known})")
        return registry.get(explicit)
    if name in registry.names() and registry.get(name).kind == "site":
        return registry.get(name)
    return registry.for_url(base_url) if base_url else None


_HOST_RE = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$")


def _hosts(r: _Reader, name: str) -> tuple[str, ...]:
    """A list of host names (``["baobinhphuoc.com.vn"]``), lower-cased."""
    hosts = []
    for i, value in enumerate(r.get(name, list, [])):
        host = value.strip().lower().rstrip(".") if isinstance(value, str) else None
        if not host or not _HOST_RE.match(host):
            raise r.fail(
                f"{name}[{i}]", f"expected a host name like 'baodongnai.com.vn', got {value!r}"
            )
        hosts.append(host)
    return tuple(hosts)


def _from(profile: SiteProfile | None, key: str) -> tuple[str, ...]:
    return tuple(getattr(profile, key)) if profile else ()


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
    except ValueError as exc:  # an integer of over 4,300 digits: tomllib lets int() fail
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:  # arrays nested thousands deep
        raise ConfigError(f"{path}: not valid TOML: nested too deep") from None
    top = _Reader(path, "", data)
    top.check_unknown({"fetch", "daemon", "site"})
    fetch = _fetch(_Reader(path, "fetch", top.get("fetch", dict, {})))
    daemon = _daemon(_Reader(path, "daemon", top.get("daemon", dict, {})))
    sites = []
    seen: set[str] = set()
    for i, table in enumerate(top.get("site", list, [])):
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: site[{i}]: expected a [[site]] table")
        # a long file's site[17] is found by its name: errors give both
        name = table.get("name")
        named = f"; in site {_shown(name)}" if isinstance(name, str) and name else ""
        site = _site(_Reader(path, f"site[{i}]", table, named=named))
        if site.name in seen:
            raise ConfigError(f"{path}: site[{i}].name: duplicate site name {_shown(site.name)}")
        seen.add(site.name)
        sites.append(site)
    return Config(path=path, fetch=fetch, daemon=daemon, sites=tuple(sites))


def load_config(path: str | Path) -> Config:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read config: {exc}") from None
    return parse_config(text, str(p))
