"""The content hash that deduplicates articles.

sha256 over the folded title and text (NFC, one tone-mark convention, case-folded, whitespace
collapsed: ``scraper.vietnamese.fold_key``), so the same story under another URL, or re-encoded
by another CMS, hashes the same; the stored text itself is never folded.
"""

from __future__ import annotations

import hashlib

from scraper.vietnamese import fold_key


def content_hash(title: str | None, text: str) -> str:
    return folded_content_hash(fold_key(title or ""), fold_key(text))


def folded_content_hash(title: str, text: str) -> str:
    """``content_hash`` of a title and text already folded (``fold_key``)."""
    return hashlib.sha256((title + "\n\n" + text).encode("utf-8")).hexdigest()


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
