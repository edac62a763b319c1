"""Raw bodies packed for the archive: zstd frames (with a site's dictionary when there is one)
and the sha256 that content-addresses them. Pure CPU work with no database library: the
crawler runs ``pack_body`` in its worker processes (``jobs.prepare``); ``storage.bodies``
writes and reads the rows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import zstandard

from storage.dedup import body_sha256

#: bench/storage.py: level 3 costs ~1 ms a page (level 10: ~5 ms) for 10% more bytes; a
#: site's dictionary (``vnnews db compact``) saves far more than a higher level would
ZSTD_LEVEL = 3
# a zstd context is not thread-safe (two daemons in one process crashed sharing one): one a thread
_zstd = threading.local()


def _dict(data: bytes | None) -> zstandard.ZstdCompressionDict | None:
    if not data:
        return None
    return zstandard.ZstdCompressionDict(data, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def _compressor(dict_id: int | None, dict_bytes: bytes | None) -> zstandard.ZstdCompressor:
    cache = _zstd.__dict__.setdefault("compressors", {})
    if dict_id not in cache:
        cache[dict_id] = zstandard.ZstdCompressor(level=ZSTD_LEVEL, dict_data=_dict(dict_bytes))
    return cache[dict_id]  # type: ignore[no-any-return]


def _decompressor(dict_id: int | None, dict_bytes: bytes | None) -> zstandard.ZstdDecompressor:
    cache = _zstd.__dict__.setdefault("decompressors", {})
    if dict_id not in cache:
        cache[dict_id] = zstandard.ZstdDecompressor(dict_data=_dict(dict_bytes))
    return cache[dict_id]  # type: ignore[no-any-return]


def compress(body: bytes, dict_id: int | None = None, dict_bytes: bytes | None = None) -> bytes:
    """A zstd frame of ``body``, with the dictionary ``dict_id`` when given."""
    return bytes(_compressor(dict_id, dict_bytes).compress(body))


def decompress(frame: bytes, dict_id: int | None = None, dict_bytes: bytes | None = None) -> bytes:
    return bytes(_decompressor(dict_id, dict_bytes).decompress(frame))


@dataclass(frozen=True)
class PackedBody:
    """A raw body as the ``pages`` row stores it: compressed (no dictionary), with its size and
    sha256."""

    zstd: bytes
    size: int
    sha256: str


def pack_body(body: bytes) -> PackedBody:
    """The CPU half of ``record_page`` (pure): a crawler runs it in a worker process."""
    return PackedBody(compress(body), len(body), body_sha256(body))
