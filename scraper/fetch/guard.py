"""The private-address guard: the fetcher never connects anywhere but the public internet.

A URL passes when its scheme is http(s) and EVERY address its host resolves to is global
unicast (not loopback, private, link-local, multicast, reserved, unspecified, shared/CGNAT or a
documentation range), unless the host name or the address is listed in ``allow_hosts``.
The fetcher checks each redirect hop and the robots.txt fetch the same way.

DNS rebinding (a name that resolves to a public address when checked and to 127.0.0.1 when
connected) is closed by *pinning*: ``check_url`` returns the addresses it checked, the fetcher
stores them in ``AddressPins`` and ``PinnedTransport`` connects to exactly those addresses.
The transport is httpx's own ``AsyncHTTPTransport`` whose httpcore pool gets a network backend
that maps host name → pinned address at ``connect_tcp`` time (and connects with asyncio's own
streams, ``netstream``); the URL keeps its host name, so
the Host header, TLS SNI and certificate verification stay those of the name (rewriting the URL
to the IP would need a Host header and the ``sni_hostname`` extension, and would let the pool
reuse one TLS connection for two names on one IP). A host with no pin is never connected to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
import typing
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable

import httpcore
import httpx

from scraper.errors import BlockedAddressError
from scraper.fetch import netstream

Resolver = Callable[[str, int], Awaitable[list[str]]]

ALLOWED_SCHEMES = frozenset({"http", "https"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def blocked_reason(address: str) -> str | None:
    """Why ``address`` (an IP literal) must not be connected to, or None if it is public.

    Pure: classifies the literal, never connects. Not an IP literal → "not an IP address".
    """
    try:
        ip: IPAddress = ipaddress.ip_address(address)
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        for wrapped in embedded_ipv4(ip):
            reason = blocked_reason(str(wrapped))
            if reason is not None:
                return f"{reason} {wrapped} (IPv4 in IPv6)"
        if ip.ipv4_mapped is not None or ip in _NAT64[0]:
            return None  # the public IPv4 address itself, through the host's stack or a NAT64
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    )
    for reason, hit in checks:
        if hit:
            return f"{reason} address"
    if not ip.is_global:
        # shared address space 100.64/10 (carrier NAT), benchmarking and similar ranges
        return "non-global address"
    return None


_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries and may be routed to. Pure.

    IPv4-mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::a.b.c.d`` (and the local-use /48),
    6to4 ``2002:AABB:CCDD::`` (``2002:7f00:2::1`` reaches 127.0.0.2 through a 6to4 relay),
    Teredo ``2001:0::/32`` (server and client) and the deprecated IPv4-compatible ``::a.b.c.d``.
    """
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if any(ip in net for net in _NAT64) or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def normalize_host(host: str) -> str:
    """Lower-case host, IPv6 without brackets, IP literals in canonical form."""
    host = host.strip().strip("[]").rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def normalize_allow(hosts: Iterable[str]) -> frozenset[str]:
    return frozenset(normalize_host(h) for h in hosts)


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def check_addresses(
    host: str, addresses: Iterable[str], *, allow: frozenset[str], url: str
) -> None:
    """Raise BlockedAddressError unless every address is public or allowed. Pure.

    ``allow`` must be normalized (``normalize_allow``). A host name in ``allow`` exempts all the
    addresses it resolves to; an address in ``allow`` exempts that address for any name.
    """
    name = normalize_host(host)
    addresses = list(addresses)
    if not addresses:
        raise BlockedAddressError(f"{host} resolved to no address", url=url)
    if name in allow:
        return
    for address in addresses:
        canonical = normalize_host(address.split("%", 1)[0])
        if canonical in allow:
            continue
        reason = blocked_reason(canonical)
        if reason is not None:
            # the way out named in the error: a local mirror or test site is blocked on purpose
            # (a feed must not make the daemon fetch the LAN), and allowed by configuration
            raise BlockedAddressError(
                f"blocked {reason} {address} for host {host} (to crawl it on purpose: "
                f'[fetch] allow_hosts = ["{name}"])',
                url=url,
            )


def check_scheme(url: httpx.URL) -> None:
    if url.scheme not in ALLOWED_SCHEMES:
        raise BlockedAddressError(f"blocked scheme {url.scheme or '(none)'!r}", url=str(url))


async def system_resolver(host: str, port: int) -> list[str]:
    """All addresses of ``host`` from the operating system's resolver, deduplicated in order."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    seen: dict[str, None] = {}
    for _family, _type, _proto, _canon, sockaddr in infos:
        seen[str(sockaddr[0])] = None
    return list(seen)


async def check_url(url: httpx.URL, *, allow: frozenset[str], resolver: Resolver) -> list[str]:
    """Check scheme and every resolved address of ``url``; return the addresses to pin.

    Raises BlockedAddressError; resolver errors (``OSError``, e.g. ``socket.gaierror``)
    propagate untranslated so the retry policy can decide on them.
    """
    check_scheme(url)
    host = url.raw_host.decode("ascii")
    if not host:
        raise BlockedAddressError("URL has no host", url=str(url))
    port = url.port or (443 if url.scheme == "https" else 80)
    addresses = [host.strip("[]")] if is_ip_literal(host) else await resolver(host, port)
    check_addresses(host, addresses, allow=allow, url=str(url))
    return addresses


class AddressPins:
    """host → addresses the guard checked; bounded (least recently pinned is forgotten)."""

    def __init__(self, max_hosts: int = 4096) -> None:
        self._pins: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._max = max_hosts

    def pin(self, host: str, addresses: Iterable[str]) -> None:
        key = host.strip("[]").lower()
        self._pins[key] = tuple(addresses)
        self._pins.move_to_end(key)
        while len(self._pins) > self._max:
            self._pins.popitem(last=False)

    def get(self, host: str) -> tuple[str, ...]:
        return self._pins.get(host.strip("[]").lower(), ())

    def __len__(self) -> int:
        return len(self._pins)


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects to the pinned addresses of a host, in order; refuses unpinned hosts."""

    def __init__(self, pins: AddressPins) -> None:
        self._pins = pins
        # socket options (none unless a caller sets them) need anyio's connect
        self._anyio = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = self._pins.get(host)
        if not addresses:
            # fail closed: the guard did not check this host (or its pin was evicted)
            raise httpcore.ConnectError(f"no checked address pinned for {host}")
        last: Exception | None = None
        for address in addresses:
            try:
                if socket_options:
                    return await self._anyio.connect_tcp(
                        address,
                        port,
                        timeout=timeout,
                        local_address=local_address,
                        socket_options=socket_options,
                    )
                return await netstream.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are never used by the fetcher")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's HTTP transport, connecting only to addresses pinned by the guard.

    No proxies (``trust_env`` off): a proxy would connect on our behalf past the guard.
    """

    def __init__(
        self,
        pins: AddressPins,
        *,
        limits: httpx.Limits | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        ssl_context = ssl_context or default_ssl_context()
        super().__init__(trust_env=False, limits=limits, verify=ssl_context)
        backend = _PinnedBackend(pins)

        # httpx exposes no network_backend argument, so the pool is rebuilt with the same
        # settings plus ours (httpx 0.28 / httpcore 1.x; tests/test_guard.py fails if this breaks)
        def pool() -> httpcore.AsyncConnectionPool:
            return httpcore.AsyncConnectionPool(
                ssl_context=ssl_context,
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                network_backend=backend,
            )

        self._pool = PoolPerOrigin(pool, expiry=limits.keepalive_expiry)  # type: ignore[assignment]


class PoolPerOrigin:
    """One httpcore connection pool per origin (scheme, host, port), in place of one for all.

    httpcore's pool scans every connection it holds on each request and each release, some of
    it quadratically (httpcore 1.0: the ``is_idle`` of every connection for each idle one, and
    a socket call per connection): with 20 hosts kept alive that cost ~1 ms of the event loop a
    request (bench/throughput.py). Politeness sends one request at a time to a host, so a pool
    per origin scans one or two. Pools idle for twice the keep-alive expiry are closed, as the
    one pool would have closed their expired connections. ``httpx.Limits`` now bound each
    origin's pool; the crawler's drains and politeness bound how many origins are in flight.
    """

    def __init__(
        self,
        make: Callable[[], httpcore.AsyncConnectionPool],
        *,
        expiry: float | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._make = make
        self._idle_after = 2 * (expiry or 5.0)
        self._clock = clock
        self._pools: dict[tuple[bytes, bytes, int | None], httpcore.AsyncConnectionPool] = {}
        self._used: dict[tuple[bytes, bytes, int | None], float] = {}
        self._swept = clock()

    @property
    def origins(self) -> int:
        return len(self._pools)

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        url = request.url
        key = (url.scheme, url.host, url.port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = self._make()
        now = self._used[key] = self._clock()
        if now - self._swept > self._idle_after:
            self._swept = now
            await self._close_idle(now)
        return await pool.handle_async_request(request)

    async def _close_idle(self, now: float) -> None:
        for key, used in list(self._used.items()):
            pool = self._pools[key]
            if now - used > self._idle_after and all(c.is_idle() for c in pool.connections):
                del self._pools[key], self._used[key]
                await pool.aclose()

    async def aclose(self) -> None:
        pools = list(self._pools.values())
        self._pools.clear()
        self._used.clear()
        for pool in pools:
            await pool.aclose()

    async def __aenter__(self) -> PoolPerOrigin:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def default_ssl_context() -> ssl.SSLContext:
    """httpx's default verifying context (certifi roots), ignoring SSL_CERT_* environment."""
    return httpx.create_ssl_context(trust_env=False)
