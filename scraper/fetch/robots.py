"""robots.txt: RFC 9309 rules as a pure policy, plus a bounded per-origin cache with TTL.

How a robots.txt response becomes a policy (``policy_from_response``, pure):

- 2xx: parsed with Protego (the parser Scrapy uses); the first 500 KiB only (RFC 9309 §2.5).
- 4xx ("unavailable"): allow everything. 429 is the exception: like Google, we read
  "Too Many Requests" as the server being overloaded, i.e. unreachable.
- 5xx, 429, or no answer at all ("unreachable"): disallow everything, cached for a short
  ``error_ttl`` so the site is asked again soon.

Redirects are followed by the fetcher (up to 5 hops, each hop guarded). The cache key is the
origin (scheme, host, port), as RFC 9309 scopes a robots.txt to it. ``RobotsCache`` never does
I/O itself: the fetcher hands it a loader.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from protego import Protego

MAX_ROBOTS_BYTES = 500 * 1024
ERROR_TTL = 300.0


@dataclass(frozen=True)
class RobotsPolicy:
    """What one robots.txt says. ``rules`` is None when the file was unavailable/unreachable."""

    allow_all: bool
    rules: Any = None  # a Protego parser (untyped library)
    expires: float = 0.0  # on the cache's clock
    reason: str = ""  # why the file was not used, e.g. "HTTP 503"
    unreachable: bool = False  # 5xx/429/no answer: disallow all, ask again after a short TTL
    network: bool = False  # no HTTP answer at all (DNS, connect, timeout); ``error`` says which
    error: str = ""  # the network failure, as the fetcher named it

    def can_fetch(self, url: str, user_agent: str) -> bool:
        if self.rules is None:
            return self.allow_all
        return bool(self.rules.can_fetch(url, user_agent))

    def crawl_delay(self, user_agent: str) -> float | None:
        if self.rules is None:
            return None
        delay = self.rules.crawl_delay(user_agent)
        return None if delay is None else float(delay)

    def sitemaps(self) -> list[str]:
        if self.rules is None:
            return []
        return [str(s) for s in self.rules.sitemaps]


def parse_robots(body: bytes) -> Any:
    text = body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
    return Protego.parse(text)


def policy_from_response(
    status: int | None,
    body: bytes,
    *,
    now: float,
    ttl: float,
    error_ttl: float = ERROR_TTL,
    error: str = "",
) -> RobotsPolicy:
    """The policy for a robots.txt answer; ``status`` None means no answer (``error`` says why)."""
    short = now + min(ttl, error_ttl)
    if status is None:
        reason = f"robots.txt unreachable: {error}" if error else "robots.txt unreachable"
        return RobotsPolicy(
            False, None, short, reason, unreachable=True, network=True, error=error or "no answer"
        )
    if 200 <= status < 300:
        return RobotsPolicy(True, parse_robots(body), now + ttl)
    if status == 429 or status >= 500:
        return RobotsPolicy(
            False, None, short, f"robots.txt answered HTTP {status}", unreachable=True
        )
    if 400 <= status < 500:
        return RobotsPolicy(True, None, now + ttl, f"robots.txt answered HTTP {status}")
    # 1xx, or a 3xx left after the redirect cap: treat as unreachable (RFC 9309 §2.3.1.2)
    return RobotsPolicy(False, None, short, f"robots.txt answered HTTP {status}", unreachable=True)


def robots_url(url: httpx.URL) -> str:
    """``scheme://host[:port]/robots.txt`` of ``url``'s origin."""
    return str(url.copy_with(path="/robots.txt", query=None, fragment=None, userinfo=b""))


Loader = Callable[[str], Awaitable[RobotsPolicy]]


class RobotsCache:
    """Origin → RobotsPolicy, bounded LRU with per-entry expiry; one load per origin at a time."""

    def __init__(self, *, now: Callable[[], float], max_origins: int = 4096) -> None:
        self._now = now
        self._max = max_origins
        self._entries: OrderedDict[str, RobotsPolicy] = OrderedDict()
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def _fresh(self, key: str) -> RobotsPolicy | None:
        policy = self._entries.get(key)
        if policy is None:
            return None
        if policy.expires <= self._now():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return policy

    def put(self, key: str, policy: RobotsPolicy) -> None:
        self._entries[key] = policy
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    async def get(self, key: str, load: Loader) -> RobotsPolicy:
        """The cached policy for ``key`` (a robots.txt URL), loading it once when stale."""
        policy = self._fresh(key)
        if policy is not None:
            return policy
        lock, users = self._locks.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                policy = self._fresh(key)
                if policy is None:
                    policy = await load(key)
                    self.put(key, policy)
                return policy
        finally:
            users[0] -= 1
            if users[0] == 0:
                self._locks.pop(key, None)
