"""``DbHostSlots``: the Fetcher's host slots kept in the database (PostgreSQL, several daemons).

It satisfies ``scraper.fetch.politeness.HostSlots``: ``async with slots.slot(host, ...)`` waits
until no other worker holds the host and its delay has passed, takes the ``host_slots`` row
(``storage.hostslots.take``, ``FOR UPDATE SKIP LOCKED``), and on leaving gives it back with the
next allowed time: the end of this request + ``politeness.next_delay`` (min_delay, Crawl-delay,
delay factor x this response time). Within a process an asyncio lock per host queues the tasks
first, so only one of them polls the database. Retry-After pauses go to the row too.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from scraper.fetch.politeness import DEFAULT_DELAY_FACTOR, DEFAULT_MAX_DELAY, next_delay
from storage import hostslots

#: a worker killed mid-request holds its host at most this long
DEFAULT_HOLD = timedelta(minutes=2)


class DbHostSlots:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        crawl_delay_cap: float = 300.0,
        delay_factor: float = DEFAULT_DELAY_FACTOR,
        max_delay: float = DEFAULT_MAX_DELAY,
        hold: timedelta = DEFAULT_HOLD,
        holder: str | None = None,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._sessions = sessions
        self._cap = crawl_delay_cap
        self._factor = delay_factor
        self._max_delay = max_delay
        #: pauses this process asked for (a 429/503, a Retry-After): what ``paused_for`` tells
        #: the crawler; other workers' pauses are in the row, which ``_take`` waits out anyway
        self._paused: dict[str, float] = {}
        self._hold = hold
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self._now = now
        self._sleep = sleep
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    def _at(self, ts: float) -> datetime:
        return datetime.fromtimestamp(ts, UTC)

    @asynccontextmanager
    async def slot(
        self, host: str, *, min_delay: float, crawl_delay: float | None
    ) -> AsyncIterator[None]:
        lock = self._locks.setdefault(host, asyncio.Lock())
        self._users[host] = self._users.get(host, 0) + 1
        try:
            async with lock, self._held(host, min_delay=min_delay, crawl_delay=crawl_delay):
                yield
        finally:
            self._users[host] -= 1
            if not self._users[host]:  # idle hosts are forgotten here: the row remembers
                del self._users[host], self._locks[host]

    @asynccontextmanager
    async def _held(
        self, host: str, *, min_delay: float, crawl_delay: float | None
    ) -> AsyncIterator[None]:
        """The row's slot for one request; given back with the next allowed time."""
        await self._take(host, min_delay)
        start = self._now()
        try:
            yield
        finally:
            end = self._now()
            elapsed = max(0.0, end - start)
            delay = next_delay(
                min_delay=min_delay, crawl_delay=crawl_delay, crawl_delay_cap=self._cap,
                delay_factor=self._factor, last_elapsed=elapsed, max_delay=self._max_delay,
            )  # fmt: skip
            with self._sessions.begin() as s:
                hostslots.give_back(
                    s, host, holder=self.holder, next_allowed_at=self._at(end + delay),
                    last_elapsed=elapsed,
                )  # fmt: skip

    async def _take(self, host: str, delay: float) -> None:
        while True:
            with self._sessions.begin() as s:
                wait = hostslots.take(
                    s, host, holder=self.holder, now=self._at(self._now()), hold=self._hold,
                    delay=delay,
                )  # fmt: skip
            if wait is None:
                return
            await self._sleep(wait)

    def pause(self, host: str, seconds: float) -> None:
        if seconds <= 0:
            return
        until = self._now() + seconds
        self._paused[host] = max(self._paused.get(host, until), until)
        if len(self._paused) > 4096:  # bounded: the oldest pauses are over by now
            self._paused.pop(next(iter(self._paused)))
        with self._sessions.begin() as s:
            hostslots.pause(s, host, self._at(until))

    def paused_for(self, host: str) -> float:
        """Seconds until ``host`` may be asked again because this process paused it (0: not);
        the ordinary politeness delay is not a pause."""
        until = self._paused.get(host)
        return max(0.0, until - self._now()) if until is not None else 0.0
