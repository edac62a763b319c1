"""Near-duplicate detection: a 64-bit SimHash over word shingles of the folded text. Pure.

A provincial report republished by a department portal keeps its words but not its bytes:
another header and footer, captions, "Theo Báo Lào Cai" appended, a sentence edited. The
content hash (``storage.dedup``) misses these; SimHash does not: each 3-word shingle of the
folded text (``scraper.vietnamese.fold_key``, then no diacritics or punctuation:
``storage.search.search_key``) votes on 64 bits, so a few changed shingles move few bits.
SimHash finds candidates cheaply (an integer per article, compared in Python over the
articles published within ``WINDOW_DAYS``): at most ``MAX_DISTANCE`` bits apart. A 64-bit
hash lets about 1 in 5000 unrelated pairs that close, so each candidate is confirmed on the
words themselves: at least ``MIN_CONTAINMENT`` of the shorter text's 3-word shingles must be in
the other (containment, not Jaccard: added chrome or a credit line must not count against a
copy). The thresholds were chosen on edits of the real pages (tests/storage/test_neardup.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from storage.search import search_key

#: words per shingle of the SimHash, and of the containment check
SHINGLE = 2
VERIFY_SHINGLE = 3
#: Hamming distance at or under which two articles are candidates
MAX_DISTANCE = 18
#: share of the shorter text's shingles found in the other text that confirms a candidate
MIN_CONTAINMENT = 0.5
#: candidates are published (or first seen) within this many days of the article
WINDOW_DAYS = 7
#: shorter texts (a photo caption, a one-line notice) share too much boilerplate to compare
MIN_WORDS = 60
_MASK = (1 << 64) - 1


def shingles(words: list[str], size: int = SHINGLE) -> list[str]:
    if len(words) < size:
        return [" ".join(words)] if words else []
    return [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]


def _hash64(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest(), "big")


#: a byte's 8 bits spread to 8 lanes of 32 bits: votes are summed lane-wise as one big integer
_LANE = 32
_SPREAD = [sum((b >> i & 1) << (_LANE * i) for i in range(8)) for b in range(256)]


def _spread(h: int) -> int:
    return sum(_SPREAD[h >> (8 * k) & 0xFF] << (8 * _LANE * k) for k in range(8))


def simhash(features: Iterable[str]) -> int:
    """The unsigned 64-bit SimHash of ``features`` (each weighs 1; duplicates count once)."""
    unique = set(features)
    ones = sum(_spread(_hash64(f)) for f in unique)  # per bit: how many hashes have it set
    lane = (1 << _LANE) - 1
    return sum(1 << bit for bit in range(64) if 2 * (ones >> (_LANE * bit) & lane) > len(unique))


def to_signed(value: int) -> int:
    """SQLite and PostgreSQL integers are signed 64-bit: store ``value`` as one."""
    return value - (1 << 64) if value >= 1 << 63 else value


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & _MASK).bit_count()


def article_simhash(title: str | None, sapo: str | None, text: str | None) -> int | None:
    """The stored (signed) SimHash of an article, or None when it is too short to compare."""
    words = words_of(title, sapo, text)
    if len(words) < MIN_WORDS:
        return None
    return to_signed(simhash(shingles(words)))


def words_of(title: str | None, sapo: str | None, text: str | None) -> list[str]:
    return search_key(title, sapo, text).split()


def containment(a: list[str], b: list[str]) -> float:
    """The share of the shorter word list's shingles that are in the other one."""
    sa, sb = set(shingles(a, VERIFY_SHINGLE)), set(shingles(b, VERIFY_SHINGLE))
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / min(len(sa), len(sb))


def near_duplicates(a: list[str], b: list[str]) -> bool:
    """The whole decision for two word lists (what ``store_article`` does in two steps)."""
    if min(len(a), len(b)) < MIN_WORDS:
        return False
    close = hamming(simhash(shingles(a)), simhash(shingles(b))) <= MAX_DISTANCE
    return close and containment(a, b) >= MIN_CONTAINMENT


def candidates(value: int, others: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """``(id, distance)`` of the ``(id, simhash)`` within ``MAX_DISTANCE``, closest first."""
    near = [(cid, hamming(value, other)) for cid, other in others]
    return sorted(((c, d) for c, d in near if d <= MAX_DISTANCE), key=lambda x: (x[1], x[0]))
