"""Decoding fetched bodies: Content-Encoding (bounded, bomb-proof) and charset (bytes → NFC text).

Content-Encoding: ``content_decoder`` chains gzip/deflate/br/zstd decoders that write at most
``CHUNK`` bytes at a time into a sink; ``CappedBuffer`` raises ``OverCap`` the moment the output
passes its limit, so a 1000:1 bomb is stopped at the cap instead of being inflated in memory.
``decode_content`` does the same for a whole byte string (e.g. a ``.xml.gz`` sitemap).

Charset, in the HTML standard's order, always NFC:

    BOM → Content-Type charset → <meta charset> / http-equiv / <?xml encoding?> (first 4 KB)
        → charset-normalizer detection → UTF-8 with replacement

with one shortcut before the declarations: a body with non-ASCII bytes that is valid UTF-8 is
decoded as UTF-8 (legacy single-byte text practically never is valid UTF-8, and servers that
label UTF-8 pages ``charset=iso-8859-1`` are common). A header naming UTF-16/32 is still obeyed.

A declared charset is used only if the body decodes strictly with it; a lie (a UTF-8 page
declared windows-1252, or a feed declared UTF-16 that is really UTF-8) falls through to the
next source. As in the WHATWG encoding standard, latin-1/ASCII labels mean windows-1252 and an
in-document UTF-16 label means UTF-8 (a document whose declaration we could read as ASCII is
not UTF-16). Vietnamese legacy pages (windows-1258 writes tones as combining marks) and NFD
text from Mac editors both come out NFC, so "Việt" is always the same code points.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
import zlib
from dataclasses import dataclass
from typing import IO, Protocol, cast

import brotli
import zstandard
from charset_normalizer import from_bytes

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# WHATWG label → what browsers actually decode
_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "x-user-defined": "cp1252",
    "unicode-1-1-utf-8": "utf-8",
    "utf8": "utf-8",
    "unicode": "utf-8",
    # Vietnamese legacy labels: windows-1258 under other names
    "windows-1258": "cp1258",
    "x-viet-vps": "cp1258",
    "tcvn": "cp1258",
}

_HEADER_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?\s*([\w.:+-]+)""", re.IGNORECASE)
_META_RE = re.compile(rb"<meta\b[^>]*?\bcharset\s*=\s*[\"']?\s*([\w.:+-]+)", re.IGNORECASE)
_XML_DECL_RE = re.compile(
    rb"""^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([\w.:+-]+)["']""", re.IGNORECASE
)

PRESCAN_BYTES = 4096
CHUNK = 64 * 1024  # largest piece a content decoder emits at once


def normalize_label(label: str) -> str | None:
    """Python codec name for a charset label, or None if Python does not know it."""
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _HEADER_CHARSET_RE.search(content_type)
    return m.group(1) if m else None


def sniff_bom(body: bytes) -> str | None:
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    return None


def charset_from_document(body: bytes) -> str | None:
    """The charset an HTML ``<meta>`` or XML declaration names in the first 4 KB."""
    head = body[:PRESCAN_BYTES]
    m = _XML_DECL_RE.match(head) or _META_RE.search(head)
    return m.group(1).decode("ascii", errors="replace") if m else None


def _strict(body: bytes, codec: str | None) -> str | None:
    if codec is None:
        return None
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


#: charset detection looks at this much of a body (it is slow, and a page's start is enough)
DETECT_BYTES = 200_000


def _detect(body: bytes) -> str:
    # mostly UTF-8 with a few broken bytes (a truncated multibyte character, a stray byte) is
    # still UTF-8: count what a lenient decode loses before asking the detector
    lenient = body.decode("utf-8", errors="replace")
    if lenient.count("\ufffd") * 200 < len(body):
        return lenient
    best = from_bytes(body[:DETECT_BYTES]).best()
    if best is not None and best.encoding:
        return body.decode(best.encoding, errors="replace")
    return lenient


def decode_body(body: bytes, content_type: str | None) -> str:
    """Decode a fetched body to NFC text (see the module docstring for the order). Pure."""
    bom = sniff_bom(body)
    if bom is not None:
        text = _strict(body, bom)
        if text is not None:
            return _finish(text)
    header = charset_from_content_type(content_type)
    header_codec = normalize_label(header) if header else None
    if header_codec is not None and header_codec.startswith(("utf-16", "utf-32")):
        # only a header can announce BOM-less UTF-16/32 (whose ASCII is also valid UTF-8)
        text = _strict(body, header_codec)
        if text is not None:
            return _finish(text)
    if not body.isascii():
        # Non-ASCII bytes that form valid UTF-8 are UTF-8 in practice: legacy single-byte text
        # almost never does, while "charset=iso-8859-1" headers on UTF-8 pages are common.
        text = _strict(body, "utf-8")
        if text is not None:
            return _finish(text)
    text = _strict(body, header_codec)
    if text is None:
        declared = charset_from_document(body)
        codec = normalize_label(declared) if declared else None
        if codec is not None and codec.startswith(("utf-16", "utf-32")):
            codec = "utf-8"
        text = _strict(body, codec)
    if text is None:
        text = _detect(body)
    return _finish(text)


def _finish(text: str) -> str:
    if text.startswith("\ufeff"):
        text = text[1:]
    return nfc(text)


def nfc(text: str) -> str:
    """NFC, normalising only the lines that need it (a page is mostly markup, and a newline
    never composes, so lines normalise independently). unicodedata's quick check is faster
    than a regex for combining marks, and also catches singletons such as CJK compatibility
    ideographs."""
    if unicodedata.is_normalized("NFC", text):
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if not unicodedata.is_normalized("NFC", line):
            lines[i] = unicodedata.normalize("NFC", line)
    return "\n".join(lines)


# ---- Content-Encoding: bounded decoders, each writes at most CHUNK bytes per sink.write ----


class Sink(Protocol):
    def write(self, data: bytes) -> int: ...


class OverCap(ValueError):
    """The decoded body reached the cap; raised inside a decoder to stop it at once."""


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


class _Zlib(_Identity):
    def __init__(self, sink: Sink, *, gzip: bool) -> None:
        super().__init__(sink)
        self._gzip = gzip
        self._first = True
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> None:
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
                    return  # trailing garbage after the stream is ignored, as browsers do
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


def content_decoder(content_encoding: str | None, sink: Sink) -> Decoder:
    """A chain of decoders for e.g. ``gzip, br`` (applied in that order, so undone br first)."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    decoder: Decoder = _Identity(sink)
    for coding in codings:  # the first-applied coding decodes last, i.e. writes to the sink
        target = decoder
        if coding in ("gzip", "x-gzip"):
            decoder = _Zlib(_Forward(target), gzip=True)
        elif coding == "deflate":
            decoder = _Zlib(_Forward(target), gzip=False)
        elif coding == "br":
            decoder = _Brotli(_Forward(target))
        elif coding == "zstd":
            decoder = _Zstd(_Forward(target))
        # identity and unknown codings pass through unchanged
    return decoder


@dataclass
class _Forward:
    target: Decoder

    def write(self, data: bytes) -> int:
        self.target.feed(bytes(data))
        return len(data)


DECODE_ERRORS: tuple[type[Exception], ...] = (zlib.error, brotli.error, zstandard.ZstdError)


def decode_content(data: bytes, content_encoding: str | None, *, limit: int) -> bytes:
    """Undo ``content_encoding`` (e.g. "gzip" for a ``.xml.gz`` sitemap) without ever holding more
    than ``limit`` decoded bytes. Raises OverCap past the limit, or one of DECODE_ERRORS."""
    out = CappedBuffer(limit)
    decoder = content_decoder(content_encoding, out)
    decoder.feed(data)
    decoder.flush()
    return bytes(out.buf)
