"""The fetcher: the one place in vnnews that talks HTTP.

``Fetcher.fetch(url)`` composes the pure policies of the sibling modules around one
``httpx.AsyncClient``:

    for each hop (redirects followed here, never by httpx):
        robots.py  — may we fetch it? (cached per origin, Crawl-delay for politeness)
        politeness — one request at a time per host, and the pause since the last one
        guard.py   — scheme and every resolved address checked, the checked address pinned
        httpx      — streamed GET; total time capped; raw and decoded bytes capped
        retry.py   — 408/425/429/5xx? try again after a short wait; 429/503/Retry-After
                     pause the whole host (transport failures: a later pass, not here)

Any final HTTP answer comes back as a ``FetchResult`` (status is data); everything else raises a
``FetchError`` subclass from ``scraper.errors`` with ``url=`` set. Content-Encoding (gzip,
deflate, br, zstd) is decoded here with bounded output per step, so a decompression bomb is
stopped at ``max_bytes`` without ever holding more than that; the charset is left to
``FetchResult.text()`` (``scraper.charset``).

Redirects: 301/302/303/307/308 with a Location, up to ``max_redirects``; a URL reached twice is a
loop (once more is allowed after a Set-Cookie, the cookie-check pattern). A Location that is not
a fetchable http(s) URL is a final ``BadRedirectError`` (a non-http(s) scheme: the guard's
``BlockedAddressError``). Errors raised on a later hop are re-raised with ``url=`` the URL asked
for and the hop in the message; a later hop's *other* host being unreachable is not the asked
URL's host being down, so it comes back as a plain FetchError, not ``HostUnreachableError``.

Library exceptions become ours in one place, ``EXCEPTION_MAP``: one table, most specific first.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType

import httpx

from scraper.errors import (
    BadRedirectError,
    BlockedAddressError,
    BodyTooLargeError,
    ContentTypeError,
    FetchError,
    HostUnreachableError,
    RobotsDisallowedError,
    TooManyRedirectsError,
)
from scraper.fetch import guard, retry
from scraper.fetch.encoding import DECODE_ERRORS, CappedBuffer, OverCap, content_decoder
from scraper.fetch.identity import DEFAULT_USER_AGENT
from scraper.fetch.politeness import DEFAULT_DELAY_FACTOR, DEFAULT_MAX_DELAY, HostSlots, Politeness
from scraper.fetch.robots import (
    MAX_ROBOTS_BYTES,
    RobotsCache,
    RobotsPolicy,
    policy_from_response,
    robots_url,
)
from scraper.fetched import FetchResult


@dataclass(frozen=True)
class FetchSettings:
    user_agent: str = DEFAULT_USER_AGENT
    min_delay: float = 2.0  # seconds between requests to one host
    timeout: float = 30.0  # total time cap per request (also stops a 1-byte/s drip)
    connect_timeout: float = 10.0
    max_bytes: int = 10_000_000  # raw and decompressed body cap
    max_redirects: int = 5
    respect_robots: bool = True
    allow_hosts: frozenset[str] = frozenset()  # hosts/IPs exempt from the private-address guard
    max_retries: int = 2  # initial request + 2 retries = 3 requests (Scrapy's RETRY_TIMES)
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    retry_after_cap: float = 600.0
    robots_ttl: float = 3600.0
    crawl_delay_cap: float = 300.0
    delay_factor: float = DEFAULT_DELAY_FACTOR  # k x the host's last response time
    max_delay: float = DEFAULT_MAX_DELAY  # cap of that part; also the longest inline retry wait


ACCEPT = {
    "html": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
    "feed": (
        "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.5"
    ),
}
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = HTML_TYPES | {
    "application/xml",
    "text/xml",
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/gzip",
    "application/x-gzip",
    "text/plain",
}
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ACCEPT_ENCODING = "gzip, deflate, br, zstd"


def content_type_allowed(content_type: str | None, accept: str, path: str) -> bool:
    """Is a 2xx answer of this type worth reading for ``accept``? Missing type: yes (sniff later).

    "feed" takes HTML, XML, RSS, Atom, text sitemaps and gzip sitemaps (octet-stream only for
    a ``.gz`` path); "html" takes HTML and XHTML. Pure.
    """
    if not content_type:
        return True
    mime = content_type.split(";", 1)[0].strip().lower()
    if accept == "html":
        return mime in HTML_TYPES
    return (
        mime in FEED_TYPES
        or mime.endswith("+xml")
        or (mime == "application/octet-stream" and path.lower().endswith(".gz"))
    )


@dataclass
class _Answer:
    """One HTTP exchange."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime
    elapsed: float
    location: str | None = None
    redirects: tuple[str, ...] = field(default=())
    held: str | None = None


@dataclass(frozen=True)
class _Plan:
    """How to fetch the hops of one URL: a page/feed, or a robots.txt (no robots check, no
    retries, content type not checked, body truncated at the RFC 9309 500 KiB instead of
    refused)."""

    headers: dict[str, str]
    accept: str | None  # "html" | "feed" | None (any content type)
    check_robots: bool
    min_delay: float
    retries: int
    limit: int
    truncate: bool = False
    #: (from URL, to URL) → take this redirect hop? None: take every hop
    follow: Callable[[str, str], bool] | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _error(cls: type[FetchError], message: str, url: str, *, retryable: bool) -> FetchError:
    err = cls(message, url=url)
    err.retryable = retryable
    return err


# Library exception → (our class, message), most specific first: the first row the exception is
# an instance of wins, the way httpx maps httpcore's exceptions. Whether it is retried (and so
# ``retryable``) is retry.py's call alone. The message may use {detail} (the library's message
# on one line), {name} (its class) and {timeout}.
EXCEPTION_MAP: tuple[tuple[type[BaseException], type[FetchError], str], ...] = (
    # asyncio.timeout around the whole exchange (TimeoutError is an OSError: before OSError)
    (TimeoutError, FetchError, "timed out after {timeout:g} s in total"),
    (httpx.TimeoutException, FetchError, "timed out ({name})"),
    (httpx.ConnectError, HostUnreachableError, "cannot connect: {detail}"),
    (httpx.NetworkError, FetchError, "connection broken: {detail}"),
    (httpx.RemoteProtocolError, FetchError, "connection broken: {detail}"),
    # the only URLs httpx parses that the fetcher has not checked are Location headers
    # (redirect_target vets them first; these rows catch whatever slips past it)
    (httpx.UnsupportedProtocol, BadRedirectError, "bad redirect location: {detail}"),
    (httpx.InvalidURL, BadRedirectError, "bad redirect location: {detail}"),
    (httpx.HTTPError, FetchError, "HTTP error: {detail}"),
    (socket.gaierror, HostUnreachableError, "DNS lookup failed: {detail}"),
    (OSError, FetchError, "network error: {detail}"),
)
LIBRARY_ERRORS: tuple[type[BaseException], ...] = tuple(row[0] for row in EXCEPTION_MAP)

MAX_LOCATION_SHOWN = 200  # characters of a bad Location quoted in the error


def url_problem(url: httpx.URL) -> str | None:
    """Why the parsed http(s) ``url`` cannot be requested, or None. Pure."""
    if not url.host:
        return "no host"
    if url.port is not None and not 0 < url.port <= 65535:
        return f"port {url.port} out of range"
    return None


def redirect_target(current: httpx.URL, location: str) -> httpx.URL:
    """Where ``Location: location`` on ``current`` leads (fragment dropped). Pure.

    Raises BadRedirectError for a Location that does not parse, has no host or a port out of
    range, and BlockedAddressError for a non-http(s) scheme (``javascript:``, ``data:``,
    ``file:``). httpx parses the Location itself before handing the response back, so this
    runs first (a response hook) and refuses everything httpx would choke on.
    """
    loc = location.strip()
    shown = repr(loc[:MAX_LOCATION_SHOWN] + ("..." if len(loc) > MAX_LOCATION_SHOWN else ""))
    where = str(current)
    try:
        parsed = httpx.URL(loc)  # what httpx does first with a Location; raises on 0177.0.0.2
        target = current.join(loc).copy_with(fragment=None)
    except httpx.InvalidURL as exc:
        raise BadRedirectError(
            f"bad redirect location {shown}: {_one_line(exc)}", url=where
        ) from exc
    if target.scheme not in guard.ALLOWED_SCHEMES:
        raise BlockedAddressError(
            f"bad redirect location {shown}: blocked scheme {target.scheme or '(none)'!r}",
            url=where,
        )
    if parsed.scheme and not parsed.host:
        # "http:\\h\p", "http:///x", "http:x": resolvers disagree on these (httpx, WHATWG and
        # RFC 3986 each give another URL, or an error), so none of them is followed
        raise BadRedirectError(f"bad redirect location {shown}: a scheme but no host", url=where)
    problem = url_problem(target)
    if problem is not None:
        raise BadRedirectError(f"bad redirect location {shown}: {problem}", url=where)
    return target


def _same_host(a: str, b: str) -> bool:
    try:
        return httpx.URL(a).host == httpx.URL(b).host
    except httpx.InvalidURL:
        return False


async def _vet_location(response: httpx.Response) -> None:
    """Response hook: refuse a bad Location before httpx tries to build the next request from it
    (it would raise InvalidURL, which is not an HTTPError, or a retryable RemoteProtocolError)."""
    if response.has_redirect_location:
        redirect_target(response.request.url, response.headers["location"])


class Fetcher:
    """``async with Fetcher(FetchSettings()) as f: result = await f.fetch(url)``.

    Share one Fetcher across all concurrent fetches of a process (politeness and robots state
    live in it), inside one event loop (its connection pool belongs to that loop).
    ``transport`` replaces the network (e.g. ``httpx.MockTransport``): the guard still checks
    every URL through ``resolver``, but address pinning is the default transport's job.
    ``sleep`` and ``clock`` drive politeness, backoff, ``fetched_at`` and Retry-After dates,
    so tests can run on fake time; ``rng`` seeds the backoff jitter.
    """

    def __init__(
        self,
        settings: FetchSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: guard.Resolver | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        clock: Callable[[], datetime] = _utcnow,
        rng: random.Random | None = None,
        slots: HostSlots | None = None,
    ) -> None:
        self.settings = settings
        self._pins = guard.AddressPins()
        self._allow = guard.normalize_allow(settings.allow_hosts)
        self._resolver = resolver or guard.system_resolver
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._client = httpx.AsyncClient(
            transport=transport or guard.PinnedTransport(self._pins),
            follow_redirects=False,
            timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            headers={"user-agent": settings.user_agent, "accept-encoding": ACCEPT_ENCODING},
            trust_env=False,  # no proxies from the environment: they would bypass the guard
            event_hooks={"response": [_vet_location]},
        )
        # the host slots: this process's (default), or shared through the database (``slots``)
        self._politeness: HostSlots = slots or Politeness(
            sleep=sleep,
            now=self._now,
            crawl_delay_cap=settings.crawl_delay_cap,
            delay_factor=settings.delay_factor,
            max_delay=settings.max_delay,
        )
        self._robots = RobotsCache(now=self._now)

    def _now(self) -> float:
        return self._clock().timestamp()

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        min_delay: float | None = None,
        respect_robots: bool | None = None,
        accept: str = "html",
        follow: Callable[[str, str], bool] | None = None,
    ) -> FetchResult:
        """GET ``url``: a FetchResult for any final HTTP status, FetchError otherwise.

        ``follow(from_url, to_url)`` vets each redirect hop before it is taken (nothing is
        requested from a refused target): a refused hop ends the fetch with the 3xx answer and
        its target in ``FetchResult.held``. A site that moved to another domain is not followed
        there this way unless its configuration says so.
        """
        if accept not in ACCEPT:
            raise ValueError(f"accept must be one of {sorted(ACCEPT)}, not {accept!r}")
        headers = {"accept": ACCEPT[accept]}
        if etag:
            headers["if-none-match"] = etag
        if last_modified:
            headers["if-modified-since"] = last_modified
        s = self.settings
        try:
            plan = _Plan(
                headers=headers,
                accept=accept,
                check_robots=s.respect_robots if respect_robots is None else respect_robots,
                min_delay=s.min_delay if min_delay is None else min_delay,
                retries=s.max_retries,
                limit=s.max_bytes,
                follow=follow,
            )
            answer = await self._follow(url, plan)
        except FetchError as exc:
            if exc.url in (None, url):
                raise
            cls = type(exc)
            if cls is HostUnreachableError and not _same_host(exc.url, url):
                # a redirect to a host that is down says nothing about this URL's own host:
                # one URL failed, the site's other URLs are still worth fetching
                cls = FetchError
            # the frontier knows the URL it asked for; name the hop that failed in the message
            raise _error(
                cls, f"{exc.args[0]} (at {exc.url})", url, retryable=exc.retryable
            ) from exc
        return FetchResult(
            url=url,
            final_url=answer.url,
            status=answer.status,
            headers=answer.headers,
            body=answer.body,
            fetched_at=answer.fetched_at,
            redirects=answer.redirects,
            elapsed=answer.elapsed,
            held=answer.held,
        )

    def paused_for(self, url: str) -> float:
        """Seconds the host of ``url`` still rests after a 429/503 or Retry-After (0: none)."""
        try:
            host = httpx.URL(url).host
        except httpx.InvalidURL:
            return 0.0
        return self._politeness.paused_for(host)

    async def robots_sitemaps(self, url: str) -> list[str]:
        """The ``Sitemap:`` URLs of the robots.txt of ``url``'s origin (empty if none or
        unavailable)."""
        policy = await self._robots_policy(self._parse(url), min_delay=self.settings.min_delay)
        return policy.sitemaps()

    # ---- redirects, robots, retries -------------------------------------------------------

    def _parse(self, url: str) -> httpx.URL:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise _error(
                FetchError, f"invalid URL: {_one_line(exc)}", url, retryable=False
            ) from exc
        guard.check_scheme(parsed)
        problem = url_problem(parsed)
        if problem is not None:
            raise _error(FetchError, f"invalid URL: {problem}", url, retryable=False)
        return parsed

    async def _follow(self, url: str, plan: _Plan) -> _Answer:
        current = url
        hops: list[str] = []
        visits = {url: 1, str(self._parse(url)): 1}
        while True:
            answer = await self._hop(current, plan)
            if answer.location is None:
                answer.redirects = tuple(hops)
                return answer
            nxt = str(redirect_target(httpx.URL(current), answer.location))
            if plan.follow is not None and not plan.follow(current, nxt):
                await self._check_held(nxt)
                answer.redirects, answer.held = tuple(hops), nxt
                return answer
            hops.append(nxt)
            # A -> A once is how cookie checks work (Set-Cookie, then come back); else a loop
            allowed = 2 if "set-cookie" in answer.headers else 1
            if visits.get(nxt, 0) >= allowed:
                raise TooManyRedirectsError(f"redirect loop back to {nxt}", url=url)
            if len(hops) > self.settings.max_redirects:
                raise TooManyRedirectsError(
                    f"more than {self.settings.max_redirects} redirects (last to {nxt})", url=url
                )
            visits[nxt] = visits.get(nxt, 0) + 1
            current = nxt

    async def _check_held(self, target: str) -> None:
        """A held target is never requested, but one the fetcher could not have gone to fails
        as it would have (a forbidden address: BlockedAddressError; a name that does not
        resolve: DNS lookup failed), not reported as a place the site moved to."""
        try:
            await guard.check_url(httpx.URL(target), allow=self._allow, resolver=self._resolver)
        except OSError as exc:
            raise self._translate(exc, target) from exc

    async def _robots_policy(self, url: httpx.URL, *, min_delay: float) -> RobotsPolicy:
        key = robots_url(url)

        async def load(key: str) -> RobotsPolicy:
            return await self._load_robots(key, min_delay=min_delay)

        return await self._robots.get(key, load)

    async def _load_robots(self, key: str, *, min_delay: float) -> RobotsPolicy:
        ttl = self.settings.robots_ttl
        try:
            plan = _Plan(
                headers={"accept": "text/plain,*/*;q=0.5"},
                accept=None,
                check_robots=False,
                min_delay=min_delay,
                retries=0,
                limit=MAX_ROBOTS_BYTES,
                truncate=True,
            )
            answer = await self._follow(key, plan)
        except TooManyRedirectsError:
            # RFC 9309 §2.3.1.2: more than five redirects MAY be taken as "unavailable"
            return RobotsPolicy(True, None, self._now() + ttl, "robots.txt redirects too often")
        except BlockedAddressError as exc:
            if exc.url == key:  # the site itself is blocked: so is the page, say so
                raise
            return policy_from_response(None, b"", now=self._now(), ttl=ttl, error=exc.args[0])
        except FetchError as exc:
            return policy_from_response(None, b"", now=self._now(), ttl=ttl, error=exc.args[0])
        return policy_from_response(answer.status, answer.body, now=self._now(), ttl=ttl)

    async def _hop(self, url: str, plan: _Plan) -> _Answer:
        parsed = self._parse(url)
        s = self.settings
        crawl_delay: float | None = None
        if plan.check_robots:
            policy = await self._robots_policy(parsed, min_delay=plan.min_delay)
            if not policy.can_fetch(str(parsed), s.user_agent):
                if policy.network:
                    # no answer at all is the host being down, not a robots.txt rule: say so
                    why = f"host unreachable (asked for its robots.txt): {policy.error}"
                    raise _error(HostUnreachableError, why, url, retryable=True)
                why = (
                    f"{policy.reason}: disallow all assumed"
                    if policy.reason
                    else "disallowed by robots.txt"
                )
                raise _error(RobotsDisallowedError, why, url, retryable=policy.unreachable)
            crawl_delay = policy.crawl_delay(s.user_agent)
        resting = self._politeness.paused_for(parsed.host)
        if resting > s.max_delay:
            # the host asked for rest (429/503, Retry-After): not worth holding a site's pass
            # for; the URL stays retryable and the caller can stop asking this host for now
            raise _error(
                FetchError,
                f"host {parsed.host} asked for a pause: {resting:.0f} s to go",
                url,
                retryable=True,
            )
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._politeness.slot(
                    parsed.host, min_delay=plan.min_delay, crawl_delay=crawl_delay
                ):
                    answer = await self._exchange(parsed, plan)
            except LIBRARY_ERRORS as exc:
                # never retried inline: the frontier tries the URL again in a later pass
                raise self._translate(exc, url) from exc
            retry_after = answer.headers.get("retry-after")
            delay = self._retry_delay(
                attempt, plan.retries, status=answer.status, error=None, retry_after=retry_after
            )
            pause = retry.host_pause(
                attempt=attempt, status=answer.status, retry_after=retry_after,
                now=self._clock(), base=s.backoff_base, cap=s.retry_after_cap,
            )  # fmt: skip
            # the wait before a retry is a pause of the host: its other URLs wait too
            self._politeness.pause(parsed.host, max(pause, delay or 0.0))
            if delay is None:
                return answer

    def _retry_delay(
        self,
        attempt: int,
        retries: int,
        *,
        status: int | None,
        error: BaseException | None,
        retry_after: str | None,
    ) -> float | None:
        s = self.settings
        return retry.retry_delay(
            attempt=attempt,
            max_retries=retries,
            status=status,
            error=error,
            retry_after=retry_after,
            now=self._clock(),
            base=s.backoff_base,
            cap=s.backoff_cap,
            # inline retries are short; a longer Retry-After pauses the host and the URL is
            # tried again in a later pass
            retry_after_cap=min(s.retry_after_cap, s.max_delay),
            rng=self._rng,
        )

    def _translate(self, exc: BaseException, url: str) -> FetchError:
        """Library error → FetchError, once, by the first matching row of ``EXCEPTION_MAP``."""
        for library, ours, template in EXCEPTION_MAP:
            if isinstance(exc, library):
                msg = template.format(
                    detail=_one_line(exc), name=type(exc).__name__, timeout=self.settings.timeout
                )
                return _error(ours, msg, url, retryable=retry.is_retryable_error(exc))
        raise TypeError(f"no mapping for {type(exc).__name__}") from exc  # LIBRARY_ERRORS only

    # ---- one exchange --------------------------------------------------------------------

    async def _exchange(self, url: httpx.URL, plan: _Plan) -> _Answer:
        async with asyncio.timeout(self.settings.timeout):
            addresses = await guard.check_url(url, allow=self._allow, resolver=self._resolver)
            self._pins.pin(url.raw_host.decode("ascii"), addresses)
            request = self._client.build_request("GET", url, headers=plan.headers)
            start = self._now()
            response = await self._client.send(request, stream=True)
            try:
                fetched_at = self._clock()
                status = response.status_code
                hdrs = {k.lower(): v for k, v in response.headers.items()}
                location = hdrs.get("location") if status in REDIRECT_STATUSES else None
                body = b""
                if location is None and status != 304:
                    ctype = hdrs.get("content-type")
                    checked = plan.accept is not None and 200 <= status < 300
                    if checked and not content_type_allowed(ctype, plan.accept or "", url.path):
                        raise ContentTypeError(
                            f"content type {ctype!r} is not {plan.accept}", url=str(url)
                        )
                    body = await self._read_body(response, hdrs, plan, url=str(url))
            finally:
                await response.aclose()
        return _Answer(str(url), status, hdrs, body, fetched_at, self._now() - start, location)

    async def _read_body(
        self, response: httpx.Response, headers: dict[str, str], plan: _Plan, *, url: str
    ) -> bytes:
        limit, truncate = plan.limit, plan.truncate
        declared = headers.get("content-length", "")
        if not truncate and declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise BodyTooLargeError(
                f"Content-Length {declared} is over the {limit}-byte cap", url=url
            )
        if response.is_stream_consumed:
            # a response built in memory (httpx.MockTransport with content=): httpx has read and
            # decoded it already; real transports always stream
            if len(response.content) > limit and not truncate:
                raise BodyTooLargeError(f"body over the {limit}-byte cap", url=url)
            return response.content[:limit]
        body = CappedBuffer(limit)
        raw = 0
        try:
            decoder = content_decoder(headers.get("content-encoding"), body, limit=limit)
            async for chunk in response.aiter_raw():
                raw += len(chunk)
                if raw > limit:
                    if truncate:
                        break
                    raise BodyTooLargeError(f"body over the {limit}-byte cap", url=url)
                decoder.feed(chunk)
            else:
                decoder.flush()
        except OverCap:
            if not truncate:
                raise BodyTooLargeError(
                    f"decoded body over the {limit}-byte cap ({headers.get('content-encoding')})",
                    url=url,
                ) from None
        except DECODE_ERRORS as exc:
            raise _error(
                FetchError,
                f"cannot decode {headers.get('content-encoding')} body: {_one_line(exc)}",
                url,
                retryable=False,
            ) from exc
        return bytes(body.buf[:limit])
