"""httpcore's network streams on asyncio's own streams, in place of its anyio backend.

httpcore (under httpx) reaches the network through a pluggable backend
(``httpcore.AsyncNetworkBackend``); its default on asyncio goes through anyio, which pays on
every read and write for a cancel scope (a timeout), a lookup of the running async library and,
each time a pooled connection is checked for reuse, a dict of the socket's attributes built
through enum properties: about a tenth of the crawler's event loop (py-spy on
bench/throughput.py), the thread every fetch and store runs on. asyncio's ``StreamReader`` and
``StreamWriter`` do the same work with a timer per timed wait (``asyncio.timeout``).

The errors are httpcore's, as its anyio backend raises them: a timeout is ``ReadTimeout``,
``WriteTimeout`` or ``ConnectTimeout``; a socket error ``ReadError``, ``WriteError`` or
``ConnectError``; a failed TLS handshake ``ConnectError``.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import typing
from contextlib import AbstractAsyncContextManager, nullcontext

import httpcore

#: bytes a connection buffers before it stops reading the socket (asyncio's default is 64 KiB;
#: httpcore reads 64 KiB at a time)
_READ_LIMIT = 256 * 1024


def _within(timeout: float | None) -> AbstractAsyncContextManager[object]:
    return asyncio.timeout(timeout) if timeout is not None else nullcontext()


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One TCP (or TLS) connection, for httpcore's HTTP/1.1 connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with _within(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError as exc:  # before OSError: TimeoutError is one
            raise httpcore.ReadTimeout(str(exc) or "read timed out") from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            async with _within(timeout):
                self._writer.write(buffer)
                await self._writer.drain()
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(str(exc) or "write timed out") from exc
        except (OSError, RuntimeError) as exc:  # RuntimeError: written after close
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        # at once, not through TLS's close_notify exchange: that needs the event loop to run on
        # (an asyncio.run ending leaves the socket open) and a peer that answers; HTTP/1.1's
        # framing has told both sides where the response ended
        self._writer.transport.abort()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with _within(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError as exc:
            self._writer.transport.abort()
            raise httpcore.ConnectTimeout(str(exc) or "TLS handshake timed out") from exc
        except (OSError, ssl.SSLError, ConnectionError) as exc:
            self._writer.transport.abort()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return self

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable":
            # asked of an idle pooled connection: the peer closed it (EOF, an error) or sent
            # bytes nobody asked for; either way it is not reused
            reader = self._reader
            return (
                reader.at_eof()
                or reader.exception() is not None
                or self._writer.transport.is_closing()
                or bool(getattr(reader, "_buffer", b""))
            )
        name = {
            "ssl_object": "ssl_object",
            "client_addr": "sockname",
            "server_addr": "peername",
            "socket": "socket",
        }.get(info)
        return self._writer.get_extra_info(name) if name is not None else None


async def connect_tcp(
    host: str, port: int, *, timeout: float | None, local_address: str | None
) -> AsyncioStream:
    """A TCP connection to ``host`` (an address: the guard pinned it) on ``port``."""
    local = (local_address, 0) if local_address else None
    try:
        async with _within(timeout):
            reader, writer = await asyncio.open_connection(
                host, port, local_addr=local, limit=_READ_LIMIT
            )
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout(str(exc) or f"connect to {host}:{port} timed out") from exc
    except OSError as exc:
        # "Connection refused", not asyncio's "[Errno 111] Connect call failed (...)"
        why = os.strerror(exc.errno) if exc.errno else str(exc) or type(exc).__name__
        raise httpcore.ConnectError(f"connection to {host}:{port} failed: {why}") from exc
    return AsyncioStream(reader, writer)
