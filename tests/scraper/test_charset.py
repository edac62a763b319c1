"""Body decoding: charset order (BOM, header, meta, detection), NFC, and bounded Content-Encoding."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.charset import (
    charset_from_document,
    decode_body,
    normalize_label,
)
from tests.support.paths import REAL

TEXT = "Tỉnh Lạng Sơn tổ chức hội nghị tổng kết năm 2025; người dân phấn khởi đón Tết Nguyên đán."
_TONES = "\u0300\u0301\u0303\u0309\u0323"


def windows_1258(text: str) -> bytes:
    """Encode as Vietnamese Windows pages do: base letter (with its hat/horn) + combining tone."""
    out = bytearray()
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in parts if c in _TONES)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
        out += (base + tones).encode("cp1258")
    return bytes(out)


def page(body_text: str, head: str = "") -> str:
    return f"<html><head>{head}<title>t</title></head><body><p>{body_text}</p></body></html>"


def test_windows_1258_from_header_comes_out_nfc() -> None:
    raw = windows_1258(page(TEXT))
    assert "\u0301".encode("cp1258") in raw  # really uses combining tones
    text = decode_body(raw, "text/html; charset=windows-1258")
    assert TEXT in text
    assert unicodedata.is_normalized("NFC", text)


@pytest.mark.parametrize(
    "head",
    [
        '<meta charset="windows-1258">',
        "<meta charset=windows-1258>",
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1258">',
    ],
)
def test_windows_1258_from_meta(head: str) -> None:
    assert TEXT in decode_body(windows_1258(page(TEXT, head)), "text/html")


def test_xml_declaration() -> None:
    raw = (
        b'<?xml version="1.0" encoding="windows-1258"?><rss><title>'
        + windows_1258(TEXT)
        + b"</title></rss>"
    )
    assert TEXT in decode_body(raw, "application/rss+xml")


def test_header_that_fails_strictly_falls_through_to_meta() -> None:
    raw = windows_1258(page(TEXT, '<meta charset="windows-1258">'))
    assert TEXT in decode_body(raw, "text/html; charset=utf-8")


def test_utf8_page_declared_latin1_is_read_as_utf8() -> None:
    raw = page(TEXT, '<meta charset="iso-8859-1">').encode("utf-8")
    assert TEXT in decode_body(raw, "text/html; charset=ISO-8859-1")


def test_undeclared_legacy_page_is_detected() -> None:
    raw = windows_1258(page(" ".join([TEXT] * 3)))
    assert TEXT in decode_body(raw, None)


def test_nfd_utf8_becomes_nfc() -> None:
    nfd = unicodedata.normalize("NFD", TEXT)
    assert nfd != TEXT
    assert decode_body(page(nfd).encode(), "text/html; charset=utf-8") == page(TEXT)


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-32"])
def test_bom_wins_over_declarations(codec: str) -> None:
    raw = page(TEXT, '<meta charset="windows-1252">').encode(codec)
    text = decode_body(raw, "text/html; charset=windows-1252")
    assert text == page(TEXT, '<meta charset="windows-1252">')


def test_utf16_header_without_bom() -> None:
    raw = page(TEXT).encode("utf-16-le")
    assert decode_body(raw, "text/html; charset=utf-16le") == page(TEXT)


def test_real_feed_declaring_utf16_but_utf8() -> None:
    raw = (REAL / "vietnambiz.vn" / "feed-vietnambiz.xml").read_bytes()
    assert charset_from_document(raw) == "utf-16"
    text = decode_body(raw, "application/rss+xml")
    assert "vietnambiz - Chứng khoán - RSS Feed" in text


def test_real_article_with_meta_charset() -> None:
    raw = (REAL / "vnexpress.net" / "meth04-article.html").read_bytes()
    text = decode_body(raw, None)
    assert "Cách các nước đối phó cú sốc năng lượng từ Trung Đông" in text
    assert unicodedata.is_normalized("NFC", text)


def test_labels() -> None:
    assert normalize_label("ISO-8859-1") == "cp1252"
    assert normalize_label(" UTF8 ") == "utf-8"
    assert normalize_label("windows-1258") == "cp1258"
    assert normalize_label("no-such-charset") is None


@given(
    st.binary(max_size=2000),
    st.sampled_from(
        [
            None,
            "text/html",
            "text/html; charset=utf-8",
            "text/html; charset=bogus",
            "text/html; charset=utf-16",
        ]
    ),
)
def test_any_bytes_decode_to_nfc_text(raw: bytes, content_type: str | None) -> None:
    text = decode_body(raw, content_type)
    assert unicodedata.is_normalized("NFC", text)


def test_nfc_fast_ranges_hold_only_characters_that_never_change_or_compose() -> None:
    """Every character outside NFC_UNSURE_RE is NFC alone (no singleton), has combining class
    0, and is never the second half of a canonical composition: text of them is NFC."""

    from scraper.charset import NFC_UNSURE_RE

    seconds = set()
    for cp in range(0x110000):
        d = unicodedata.decomposition(chr(cp))
        if d and not d.startswith("<") and len(d.split()) == 2:
            seconds.add(int(d.split()[1], 16))
    for cp in range(0x110000):
        c = chr(cp)
        if NFC_UNSURE_RE.match(c):
            continue
        assert unicodedata.normalize("NFC", c) == c, hex(cp)
        assert unicodedata.combining(c) == 0 and cp not in seconds, hex(cp)


@settings(max_examples=2000, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            "<>aoeuyAĐđ ạàẬ\n\u0338\u0300\u0301\u0323\u0302\u2000\u0340한\u1161\u11a8Å"
        )
        | st.characters(),
        max_size=40,
    )
)
def test_nfc_is_unicodedata_nfc(text: str) -> None:

    from scraper.charset import nfc

    assert nfc(text) == unicodedata.normalize("NFC", text)
