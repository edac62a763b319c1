"""Near-duplicate detection: a 64-bit SimHash over word shingles of the folded text. Pure.

A provincial report republished by a department portal keeps its words but not its bytes:
another header and footer, captions, "Theo Báo Lào Cai" appended, a sentence edited. The
content hash (``storage.dedup``) misses these; SimHash does not: each 3-word shingle of the
folded text (``scraper.vietnamese.fold_key``, then no diacritics or punctuation:
``storage.searchkey.search_key``) votes on 64 bits, so a few changed shingles move few bits.
SimHash finds candidates cheaply (an integer per article, compared in Python over the
articles published within ``WINDOW_DAYS``): at most ``MAX_DISTANCE`` bits apart. A 64-bit
hash lets about 1 in 5000 unrelated pairs that close, so each candidate is confirmed on the
words themselves: at least ``MIN_CONTAINMENT`` of the shorter text's 3-word shingles must be in
the other (containment, not Jaccard: added chrome or a credit line must not count against a
copy), unless the SimHashes are within ``TRUSTED_DISTANCE`` bits: so close, they decide alone.
The thresholds were chosen on edits of the real pages (tests/storage/test_neardup.py).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator

from storage.searchkey import search_key

#: words per shingle of the SimHash, and of the containment check
SHINGLE = 2
VERIFY_SHINGLE = 3
#: Hamming distance at or under which two articles are candidates
MAX_DISTANCE = 18
#: at or under this distance the SimHashes alone decide, the words are not compared: Manku, Jain
#: and Das Sarma (WWW 2007) call 64-bit SimHashes within 3 bits near-duplicates across 8 billion
#: pages; in tests/support/neardup_set different stories are 20 bits apart or more, and copies
#: within 3 bits share 97 % of their shingles or more. Syndicated copies, the common case, land
#: here, and the store skips building two shingle sets per copy
TRUSTED_DISTANCE = 3
#: share of the shorter text's shingles found in the other text that confirms a candidate
MIN_CONTAINMENT = 0.5
#: candidates are published (or first seen) within this many days of the article
WINDOW_DAYS = 7
#: shorter texts (a photo caption, a one-line notice) share too much boilerplate to compare
MIN_WORDS = 60
_MASK = (1 << 64) - 1


def _windows(words: list[str], size: int) -> Iterator[tuple[str, ...]]:
    """Each run of ``size`` consecutive words; the whole list when it is shorter (none when
    empty). zip over shifted lists: no slice a window (twice as fast as words[i : i + size])."""
    if len(words) < size:
        return iter([tuple(words)] if words else [])
    return zip(*(words[i:] for i in range(size)), strict=False)


def shingles(words: list[str], size: int = SHINGLE) -> list[str]:
    return list(map(" ".join, _windows(words, size)))


_BLAKE8 = hashlib.blake2b(digest_size=8)


def _digest8(value: str) -> bytes:
    """The 8-byte BLAKE2b of ``value`` (copying a ready hasher skips parsing its parameters)."""
    h = _BLAKE8.copy()
    h.update(value.encode("utf-8"))
    return h.digest()


def _hash64(value: str) -> int:
    return int.from_bytes(_digest8(value), "big")


# _BIT[b][x] is 1 when bit b of the byte x is set: counting a bit over many hashes is then one
# bytes.translate and one bytes.count, in C
_BIT = [bytes((x >> b) & 1 for x in range(256)) for b in range(8)]


def simhash(features: Iterable[str]) -> int:
    """The unsigned 64-bit SimHash of ``features`` (each weighs 1; duplicates count once).

    Bit j is set when more than half the features' hashes have bit j set. The hashes are
    joined into one bytes object (8 big-endian bytes each); byte k of every hash is the slice
    ``[k::8]``, and the count of bit b among them one translate and one count.
    """
    unique = set(features)
    digests = b"".join([_digest8(f) for f in unique])
    half = len(unique)
    out = 0
    for k in range(8):
        column = digests[k::8]
        shift = 8 * (7 - k)
        for b in range(8):
            if 2 * column.translate(_BIT[b]).count(1) > half:
                out |= 1 << (shift + b)
    return out


def to_signed(value: int) -> int:
    """SQLite and PostgreSQL integers are signed 64-bit: store ``value`` as one."""
    return value - (1 << 64) if value >= 1 << 63 else value


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & _MASK).bit_count()


#: ``hamming`` as an SQLite function (``storage.db`` registers it on every connection), so the
#: window query returns only the candidates, not every SimHash of the week
SQLITE_HAMMING = "vnnews_hamming"


def sql_hamming(a: int | None, b: int | None) -> int | None:
    # ``hamming`` inlined: SQLite calls this once or twice for every row of the week's window
    return None if a is None or b is None else ((a ^ b) & _MASK).bit_count()


def article_simhash(title: str | None, sapo: str | None, text: str | None) -> int | None:
    """The stored (signed) SimHash of an article, or None when it is too short to compare."""
    return simhash_of_key(search_key(title, sapo, text))


def simhash_of_key(key: str) -> int | None:
    """``article_simhash`` from the article's ``search_key`` (``articles.search_text``), which
    the crawler has computed already."""
    words = key.split()
    if len(words) < MIN_WORDS:
        return None
    return to_signed(simhash(shingles(words)))


def words_of(title: str | None, sapo: str | None, text: str | None) -> list[str]:
    return search_key(title, sapo, text).split()


def containment(a: list[str], b: list[str]) -> float:
    """The share of the shorter word list's shingles that are in the other one."""
    return set_containment(verify_set(a), verify_set(b))


Shingle = tuple[str, ...]


def verify_set(words: list[str]) -> frozenset[Shingle]:
    """The shingles ``containment`` compares (what ``ShingleCache`` keeps per text): tuples of
    ``VERIFY_SHINGLE`` words, not joined strings (words hold no spaces, so the sets compare
    alike, and a 1,000-word text skips 1,000 joins)."""
    return frozenset(_windows(words, VERIFY_SHINGLE))


def set_containment(sa: frozenset[Shingle], sb: frozenset[Shingle]) -> float:
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / min(len(sa), len(sb))


class ShingleCache:
    """The verify shingles of recently compared articles, by a key of what their words are
    made of (``storage.links``: the content hash and the sapo, the same in any archive).
    Syndicated copies cluster around one original, which every copy is checked against: its
    shingles are built once, not once per copy."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[str, frozenset[Shingle]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, words: Callable[[], list[str]]) -> frozenset[Shingle]:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        value = verify_set(words())
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


def near_duplicates(a: list[str], b: list[str]) -> bool:
    """The whole decision for two word lists (what ``store_article`` does in two steps)."""
    if min(len(a), len(b)) < MIN_WORDS:
        return False
    distance = hamming(simhash(shingles(a)), simhash(shingles(b)))
    if distance <= TRUSTED_DISTANCE:
        return True
    return distance <= MAX_DISTANCE and containment(a, b) >= MIN_CONTAINMENT


def candidates(value: int, others: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """``(id, distance)`` of the ``(id, simhash)`` within ``MAX_DISTANCE``, closest first."""
    near = [(cid, hamming(value, other)) for cid, other in others]
    return sorted(((c, d) for c, d in near if d <= MAX_DISTANCE), key=lambda x: (x[1], x[0]))
