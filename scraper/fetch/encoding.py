"""Content-Encoding: bounded, bomb-proof decoders for gzip, deflate, br and zstd.

``content_decoder`` chains decoders that write at most ``CHUNK`` bytes at a time into a sink;
``CappedBuffer`` raises ``OverCap`` the moment the output passes its limit, so a 1000:1 bomb is
stopped at the cap instead of being inflated in memory. ``decode_content`` does the same for a
whole byte string (a ``.xml.gz`` sitemap); with ``strict`` a truncated stream is an error.

Every stage of a chain (``gzip, br``) is capped like the body, not only the last: 256 MiB of
zeros after the inner gzip stream decode to nothing in the end, but the br stage would still
produce them all for the gzip stage to skip, minutes of CPU for a 500-byte response. A
gzip/deflate stage ignores whatever follows its stream, and at most ``MAX_CODINGS`` codings are
undone.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import IO, Protocol, cast

import brotli
import zstandard

CHUNK = 64 * 1024  # largest piece a content decoder emits at once
MAX_CODINGS = 5  # as urllib3 2.6: each coding is one more bounded pass, not a free one


class Sink(Protocol):
    def write(self, data: bytes) -> int: ...


class OverCap(ValueError):
    """The decoded body reached the cap; raised inside a decoder to stop it at once."""


class TooManyCodings(ValueError):
    """A Content-Encoding chain longer than ``MAX_CODINGS``."""


class CappedBuffer:
    """The decoded body, refusing to grow past ``limit``."""

    def __init__(self, limit: int) -> None:
        self.buf = bytearray()
        self.limit = limit

    def write(self, data: bytes) -> int:
        self.buf += data
        if len(self.buf) > self.limit:
            raise OverCap
        return len(data)


class _Identity:
    def __init__(self, sink: Sink) -> None:
        self._sink = sink

    def feed(self, data: bytes) -> None:
        if data:
            self._sink.write(data)

    def flush(self) -> None:
        pass

    @property
    def complete(self) -> bool:
        """False when the stream ended early (only gzip/deflate can tell)."""
        return True


class _Zlib(_Identity):
    def __init__(self, sink: Sink, *, gzip: bool) -> None:
        super().__init__(sink)
        self._gzip = gzip
        self._first = True
        self._ended = False
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> None:
        if self._ended:
            return  # data after the stream: ignored without looking at it
        if self._first and not self._gzip and data:
            self._first = False
            try:  # "deflate" should be zlib-wrapped; some servers send raw deflate
                zlib.decompressobj().decompress(data[:64], 1)
            except zlib.error:
                self._d = zlib.decompressobj(-zlib.MAX_WBITS)
        buf = data
        while True:
            out = self._d.decompress(buf, CHUNK)
            buf = self._d.unconsumed_tail
            if out:
                self._sink.write(out)
            if self._d.eof:
                rest = self._d.unused_data
                if not (self._gzip and rest.startswith(b"\x1f\x8b")):
                    # trailing garbage after the stream is ignored, as browsers do; feeding it to
                    # the ended decompressor would copy all of it into unused_data on every call
                    self._ended = True
                    return
                # gzip allows concatenated members: decode the next one
                self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                buf = rest
                continue
            if not buf and len(out) < CHUNK:
                return

    def flush(self) -> None:
        out = self._d.flush()
        if out:
            self._sink.write(out)

    @property
    def complete(self) -> bool:
        return self._d.eof


class _Brotli(_Identity):
    def __init__(self, sink: Sink) -> None:
        super().__init__(sink)
        self._d = brotli.Decompressor()

    def feed(self, data: bytes) -> None:
        # can_accept_more_data() turns True before the pending output is drained, so drain until
        # a call yields nothing
        out = self._d.process(data, output_buffer_limit=CHUNK)
        while out:
            self._sink.write(out)
            if self._d.is_finished():
                return
            out = self._d.process(b"", output_buffer_limit=CHUNK)


class _Zstd(_Identity):
    def __init__(self, sink: Sink) -> None:
        super().__init__(sink)
        self._w = zstandard.ZstdDecompressor().stream_writer(
            cast(IO[bytes], sink),
            write_size=CHUNK,  # only .write() is called
        )

    def feed(self, data: bytes) -> None:
        self._w.write(data)


Decoder = _Identity


def content_decoder(content_encoding: str | None, sink: Sink, *, limit: int) -> Decoder:
    """A chain of decoders for e.g. ``gzip, br`` (applied in that order, so undone br first).

    Each intermediate stage may emit at most ``limit`` bytes (OverCap past it), as the sink may.
    Raises TooManyCodings for a chain longer than ``MAX_CODINGS``.
    """
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    if len(codings) > MAX_CODINGS:
        raise TooManyCodings(f"{len(codings)} content codings, more than {MAX_CODINGS}")
    decoder: Decoder = _Identity(sink)
    for coding in codings:  # the first-applied coding decodes last, i.e. writes to the sink
        out = _Forward(decoder, limit)
        if coding in ("gzip", "x-gzip"):
            decoder = _Zlib(out, gzip=True)
        elif coding == "deflate":
            decoder = _Zlib(out, gzip=False)
        elif coding == "br":
            decoder = _Brotli(out)
        elif coding == "zstd":
            decoder = _Zstd(out)
        # identity and unknown codings pass through unchanged
    return decoder


@dataclass
class _Forward:
    """One stage's output, handed to the next stage and capped like the body itself."""

    target: Decoder
    limit: int
    passed: int = 0

    def write(self, data: bytes) -> int:
        self.passed += len(data)
        if self.passed > self.limit:
            raise OverCap
        self.target.feed(bytes(data))
        return len(data)


DECODE_ERRORS: tuple[type[Exception], ...] = (
    zlib.error,
    brotli.error,
    zstandard.ZstdError,
    TooManyCodings,
)


def decode_content(
    data: bytes, content_encoding: str | None, *, limit: int, strict: bool = False
) -> bytes:
    """Undo ``content_encoding`` (e.g. "gzip" for a ``.xml.gz`` sitemap) without ever holding more
    than ``limit`` decoded bytes. Raises OverCap past the limit, or one of DECODE_ERRORS; with
    ``strict``, also zlib.error for a stream that ends early."""
    out = CappedBuffer(limit)
    decoder = content_decoder(content_encoding, out, limit=limit)
    decoder.feed(data)
    decoder.flush()
    if strict and not decoder.complete:
        raise zlib.error("truncated data")
    return bytes(out.buf)
