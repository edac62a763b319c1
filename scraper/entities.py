"""HTML character references decoded without the standard library's failure modes.

``html.unescape`` turns a numeric reference into an ``int`` first: a decimal reference of more
than 4,300 digits (``&#2111...1;``, seen by the fuzzer in a feed title; leading zeros count
too) raises ValueError, the interpreter's guard against quadratic int parsing. A reference that
long names no character unless its digits are zeros: its zeros are dropped, and one still too
long for a code point (0x10FFFF has 7 decimal digits) becomes U+FFFD, as an out-of-range one
does, before unescaping.
"""

from __future__ import annotations

import html
import re

# a decimal reference long enough to need a look (hexadecimal ones parse at any length)
_LONG_REF_RE = re.compile(r"&#(0*+)([0-9]*+)(;?)")
_MAX_DIGITS = 7


def _shortened(m: re.Match[str]) -> str:
    zeros, digits, semicolon = m.group(1), m.group(2), m.group(3)
    if len(zeros) + len(digits) <= _MAX_DIGITS:
        return m.group(0)
    if len(digits) > _MAX_DIGITS:
        return "\ufffd"
    return f"&#{digits or '0'}{semicolon}"


def unescape(text: str) -> str:
    """``html.unescape`` of ``text``; a decimal reference too long to be a character is U+FFFD."""
    if "&#" in text:
        text = _LONG_REF_RE.sub(_shortened, text)
    return html.unescape(text)
