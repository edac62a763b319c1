"""Bounded Content-Encoding decoders: bombs stop at the cap, concatenated members decode."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest

from scraper.fetch.encoding import OverCap, decode_content


def test_decode_content_bounded() -> None:
    data = gzip.compress(b"<urlset/>" * 10)
    assert decode_content(data, "gzip", limit=1000) == b"<urlset/>" * 10
    with pytest.raises(OverCap):
        decode_content(gzip.compress(bytes(10_000_000)), "gzip", limit=100_000)
    with pytest.raises(OverCap):
        decode_content(brotli.compress(bytes(10_000_000)), "br", limit=100_000)
    assert decode_content(b"plain", None, limit=10) == b"plain"
    two_members = gzip.compress(b"<a/>") + gzip.compress(b"<b/>")
    assert decode_content(two_members, "gzip", limit=100) == b"<a/><b/>"


def test_strict_decode_refuses_a_truncated_stream() -> None:
    data = gzip.compress(b"<urlset/>" * 100)
    assert decode_content(data[:-20], "gzip", limit=10_000)  # lenient: what arrived
    with pytest.raises(zlib.error, match="truncated"):
        decode_content(data[:-20], "gzip", limit=10_000, strict=True)


def test_data_after_the_stream_is_skipped_in_linear_time() -> None:
    import time

    from scraper.fetch.encoding import CappedBuffer, content_decoder

    out = CappedBuffer(1000)
    decoder = content_decoder("gzip", out, limit=1000)
    decoder.feed(gzip.compress(b"<a/>"))
    start = time.monotonic()
    zeros = bytes(64 * 1024)
    for _ in range(2000):  # 128 MiB of trailing zeros, fed as a server would send them
        decoder.feed(zeros)
    assert time.monotonic() - start < 1.0
    assert bytes(out.buf) == b"<a/>"
