"""Per-host politeness: one request at a time per host, and a pause between requests.

Heritrix's rule (``FetchHTTP``/``DispositionProcessor``): after a fetch from a host ends, wait

    max(robots Crawl-delay (capped), min_delay, min(delay_factor x last response time, max_delay))

before the next one starts. The pause runs from the END of the previous request, so a slow
server is given room; the response-time part is capped (Heritrix's ``maxDelayMs``, 30 s) so one
URL that drips or hangs until the timeout does not make the host wait 5 x 30 s after it.
``pause(host, seconds)`` rests a whole host (a 429/503 or a Retry-After: the server is busy, not
the URL). ``next_delay`` is the pure rule; ``Politeness`` holds the per-host state (bounded LRU:
idle hosts beyond ``max_hosts`` are forgotten) and takes injectable ``sleep`` and ``now`` so tests
never wait.

``HostSlots`` is the seam: the Fetcher asks any such object for a host's slot. ``Politeness``
serves one process (SQLite: one daemon per archive); ``jobs.hostslots.DbHostSlots`` keeps the
slot in the database, so several daemons on one PostgreSQL share one request at a time per host
and one delay (scraper never imports storage: the implementation comes in from outside).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

#: Heritrix's delayFactor: wait at least k x the host's last response time between requests
DEFAULT_DELAY_FACTOR = 5.0
#: Heritrix's maxDelayMs: the response-time part of the delay never exceeds this (seconds)
DEFAULT_MAX_DELAY = 30.0


def next_delay(
    *,
    min_delay: float,
    crawl_delay: float | None,
    crawl_delay_cap: float,
    delay_factor: float,
    last_elapsed: float | None,
    max_delay: float = DEFAULT_MAX_DELAY,
) -> float:
    """Seconds between the end of one request to a host and the start of the next. Pure.

    ``max_delay`` caps only the response-time part: ``min_delay`` and the (separately capped)
    Crawl-delay are the operator's and the site's own wishes and always hold."""
    delay = max(0.0, min_delay)
    if crawl_delay is not None and crawl_delay > 0:
        delay = max(delay, min(crawl_delay, crawl_delay_cap))
    if delay_factor > 0 and last_elapsed is not None:
        delay = max(delay, min(delay_factor * last_elapsed, max(0.0, max_delay)))
    return delay


class HostSlots(Protocol):
    """Who may send the next request to a host, and when."""

    def slot(
        self, host: str, *, min_delay: float, crawl_delay: float | None
    ) -> AbstractAsyncContextManager[None]:
        """``async with slots.slot(host, ...):`` one request, after the host's delay."""
        ...

    def pause(self, host: str, seconds: float) -> None:
        """No request to ``host`` for ``seconds`` (a 429/503, a Retry-After), whoever sends it."""
        ...

    def paused_for(self, host: str) -> float:
        """Seconds until ``host`` may be asked again because of a pause (0: not paused)."""
        ...


@dataclass
class _Host:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # tasks holding or waiting for the lock: never evicted while > 0
    last_end: float | None = None
    last_elapsed: float | None = None
    #: no request to the host starts before this (a 429/503 or Retry-After asked for rest)
    paused_until: float | None = None


class Politeness:
    """``async with politeness.slot(host, min_delay=2.0, crawl_delay=None): ...`` per request."""

    def __init__(
        self,
        *,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        now: Callable[[], float],
        crawl_delay_cap: float = 300.0,
        delay_factor: float = DEFAULT_DELAY_FACTOR,
        max_delay: float = DEFAULT_MAX_DELAY,
        max_hosts: int = 4096,
    ) -> None:
        self._sleep = sleep
        self._now = now
        self._cap = crawl_delay_cap
        self._factor = delay_factor
        self._max_delay = max_delay
        self._max = max_hosts
        self._hosts: OrderedDict[str, _Host] = OrderedDict()

    def __len__(self) -> int:
        return len(self._hosts)

    def _enter(self, host: str) -> _Host:
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _Host()
        self._hosts.move_to_end(host)
        state.users += 1
        self._evict()
        return state

    def _evict(self) -> None:
        if len(self._hosts) <= self._max:
            return
        for key in [k for k, s in self._hosts.items() if s.users == 0]:
            if len(self._hosts) <= self._max:
                break
            del self._hosts[key]

    def delay_for(self, host: str, *, min_delay: float, crawl_delay: float | None) -> float:
        state = self._hosts.get(host)
        return next_delay(
            min_delay=min_delay,
            crawl_delay=crawl_delay,
            crawl_delay_cap=self._cap,
            delay_factor=self._factor,
            last_elapsed=state.last_elapsed if state else None,
            max_delay=self._max_delay,
        )

    def pause(self, host: str, seconds: float) -> None:
        """Let no request to ``host`` start for ``seconds`` (extends, never shortens, a pause)."""
        if seconds <= 0:
            return
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _Host()
            self._evict()
        until = self._now() + seconds
        state.paused_until = max(state.paused_until or until, until)

    def paused_for(self, host: str) -> float:
        """Seconds until ``host`` may be asked again because of a pause (0: not paused)."""
        state = self._hosts.get(host)
        if state is None or state.paused_until is None:
            return 0.0
        return max(0.0, state.paused_until - self._now())

    @asynccontextmanager
    async def slot(
        self, host: str, *, min_delay: float, crawl_delay: float | None
    ) -> AsyncIterator[None]:
        """Hold ``host`` for one request, after waiting out the delay since its last request."""
        state = self._enter(host)
        try:
            async with state.lock:
                ready = state.paused_until or 0.0
                if state.last_end is not None:
                    delay = self.delay_for(host, min_delay=min_delay, crawl_delay=crawl_delay)
                    ready = max(ready, state.last_end + delay)
                wait = ready - self._now()
                if wait > 0:
                    await self._sleep(wait)
                start = self._now()
                try:
                    yield
                finally:
                    state.last_end = self._now()
                    state.last_elapsed = max(0.0, state.last_end - start)
        finally:
            state.users -= 1
            self._evict()
