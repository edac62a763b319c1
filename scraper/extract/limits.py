"""Cheap limits checked before any HTML is parsed: a hostile page must not freeze the parser.

lexbor's tree building is quadratic in nesting depth: 100,000 nested ``<div>`` (1.1 MB) take
about 30 s to parse, 300,000 about ten minutes, with the event loop (and so every other site)
waiting. ``check_html`` refuses such a page in one linear scan of the bytes, before the parse.

The depth is estimated, not parsed: start tags minus end tags, leaving out void elements,
self-closing tags inside SVG/MathML (``<path/>``; in HTML ``<div/>`` is an open ``<div>``),
elements whose end tag is optional (``<p>``, ``<li>``, ``<td>``...: the parser closes them
itself), comments and raw text (``<script>``, ``<style>``...). The real pages in
tests/fixtures estimate at 15 or less; ``MAX_DEPTH`` leaves a wide margin and still parses in
under half a second.

``defuse`` takes what lexbor is quadratic in without any depth: the options of one
``<select>``. Past ``MAX_OPTIONS`` their tags are removed before the parse.
"""

from __future__ import annotations

import re
from typing import AnyStr, overload

from scraper.errors import HtmlTooComplexError

#: the largest page parsed at all (FetchSettings.max_bytes, the fetcher's own cap, is the same)
MAX_HTML_BYTES = 10_000_000
#: the deepest estimated nesting parsed (lexbor, measured: 0.1 s at 5,000 levels, 0.24 s at
#: 10,000, 1.6 s at 20,000, 30 s at 100,000: quadratic). Deeper than any real page (<= 15 in
#: tests/fixtures) by far, and the robustness tests extract a page 10,000 levels deep.
MAX_DEPTH = 12_000

# a start or end tag: its name, and whether it ends in "/>"; [^<>]* never crosses into the next
# tag, so a tag that never closes costs a scan to the next "<", not to the end of the page
_TAG_RE = re.compile(rb"<(/?)([A-Za-z][A-Za-z0-9:-]*)([^<>]*)(>?)")
_VOID = frozenset(
    b"area base basefont bgsound br col command embed frame hr image img input keygen link meta "
    b"param source track wbr".split()
)
# end tag optional: the parser closes these when the next sibling starts. Not the ruby
# annotations (rb rt rtc rp) nor optgroup: outside a <ruby> or <select> they nest (2,000 <rt>
# parse 2,000 deep), and a page of them bypassed the limit (40,000: 7 s)
_IMPLIED_END = frozenset(
    b"p li dt dd option tr td th thead tbody tfoot colgroup caption html head body".split()
)
_FOREIGN = frozenset({b"svg", b"math"})
# content is text up to the matching end tag: "<div>" in a script is not a tag
_RAW_TEXT = frozenset(b"script style textarea title xmp iframe noembed noframes plaintext".split())


def nesting_depth(html: bytes, *, stop_at: int | None = None) -> int:
    """The estimated deepest element nesting of ``html``; stops early past ``stop_at``. Pure."""
    depth = deepest = foreign = 0
    pos = 0
    end = len(html)
    while pos < end:
        lt = html.find(b"<", pos)
        if lt < 0:
            break
        if html.startswith(b"<!--", lt):
            close = html.find(b"-->", lt + 4)
            pos = end if close < 0 else close + 3
            continue
        m = _TAG_RE.match(html, lt)
        if m is None:
            pos = lt + 1
            continue
        closing, name, rest, _ = m.groups()
        name = name.lower()
        pos = m.end()
        if closing:
            if name not in _VOID and name not in _IMPLIED_END and depth:
                depth -= 1
                if name in _FOREIGN and foreign:
                    foreign -= 1
            continue
        if name in _RAW_TEXT:
            close = _find_end(html, name, pos)
            pos = end if close < 0 else close
            continue
        # "/>" closes an element only in SVG/MathML: an HTML parser ignores it on <div/>
        if rest.endswith(b"/") and (foreign or name in _FOREIGN):
            continue
        if name in _VOID or name in _IMPLIED_END:
            continue
        if name in _FOREIGN:
            foreign += 1
        depth += 1
        if depth > deepest:
            deepest = depth
            if stop_at is not None and deepest > stop_at:
                break
    return deepest


def _find_end(html: bytes, name: bytes, pos: int) -> int:
    """Where ``</name`` starts after ``pos`` (any case), or -1."""
    pattern = re.compile(rb"</" + re.escape(name), re.IGNORECASE)
    m = pattern.search(html, pos)
    return -1 if m is None else m.start()


#: ``<option>`` tags a page keeps: lexbor builds a ``<select>``'s options in quadratic time
#: (5,000: 0.07 s, 20,000: 2.5 s, 40,000: 10 s); a commune picker holds ~3,300
MAX_OPTIONS = 5_000
_OPTION_START = r"<option\b"
# a whole option tag, quoted attribute values included (a "<" may stand in them)
_OPTION_TAG = r"""</?option\b(?:[^<>"']++|"[^"]*+"|'[^']*+')*+>"""
# what is left of an opener after that (an unclosed quote): the "<" goes, the rest is text
_OPTION_OPENER = r"<(?=/?option\b)"
_BYTES: tuple[re.Pattern[bytes], re.Pattern[bytes], re.Pattern[bytes]] = (
    re.compile(_OPTION_START.encode(), re.IGNORECASE),
    re.compile(_OPTION_TAG.encode(), re.IGNORECASE),
    re.compile(_OPTION_OPENER.encode(), re.IGNORECASE),
)
_STR: tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]] = (
    re.compile(_OPTION_START, re.IGNORECASE),
    re.compile(_OPTION_TAG, re.IGNORECASE),
    re.compile(_OPTION_OPENER, re.IGNORECASE),
)


@overload
def defuse(html: str, *, tags: int | None = None) -> str: ...
@overload
def defuse(html: bytes, *, tags: int | None = None) -> bytes: ...
@overload
def defuse(html: bytes | str, *, tags: int | None = None) -> bytes | str: ...


def defuse(html: bytes | str, *, tags: int | None = None) -> bytes | str:
    """``html`` as it can be parsed in bounded time: past ``MAX_OPTIONS`` option tags, the
    tags go (their words stay, in the ``<select>``, which extraction drops). ``tags``: an upper
    bound on its tags (``check_html``'s answer): a page with fewer than ``MAX_OPTIONS`` (nearly
    all) is not scanned again. Pure."""
    if tags is not None and tags <= MAX_OPTIONS:
        return html
    if isinstance(html, bytes):
        return _without_options(*_BYTES, html, b" ")
    return _without_options(*_STR, html, " ")


def _without_options(
    start: re.Pattern[AnyStr], tag: re.Pattern[AnyStr], opener: re.Pattern[AnyStr],
    html: AnyStr, space: AnyStr,
) -> AnyStr:  # fmt: skip
    if sum(1 for _ in start.finditer(html)) <= MAX_OPTIONS:
        return html
    html = tag.sub(space, html)
    if sum(1 for _ in start.finditer(html)) > MAX_OPTIONS:
        html = opener.sub(space, html)
    return html


def check_size(html: str | bytes, *, url: str | None = None) -> None:
    """Raise HtmlTooComplexError for a page too large to decode or parse (checked on the bytes,
    before they are decoded)."""
    # a str is measured in characters: a 10 MB page in a one-byte charset may be more in UTF-8
    if len(html) > MAX_HTML_BYTES:
        unit = "characters" if isinstance(html, str) else "bytes"
        raise HtmlTooComplexError(
            f"page larger than {MAX_HTML_BYTES} {unit} ({len(html)})", url=url
        )


def check_html(html: str | bytes, *, url: str | None = None) -> int:
    """Raise HtmlTooComplexError for a page too large or nested too deep to parse safely; else
    how many ``<`` it holds (an upper bound on its tags, for ``defuse``). Given what the parser
    will read: decoded text, or bytes in an ASCII-compatible charset (EBCDIC bytes hold no
    b"<", UTF-16 ones a NUL in every tag)."""
    check_size(html, url=url)
    # each level of nesting needs a start tag: a page with at most MAX_DEPTH of them (all but
    # the largest pages) needs no scan, and counting is C-fast where the scan is a Python loop
    starts = html.count("<") if isinstance(html, str) else html.count(b"<")
    if starts <= MAX_DEPTH:
        return starts
    data = html.encode("utf-8", "surrogatepass") if isinstance(html, str) else html
    if nesting_depth(data, stop_at=MAX_DEPTH) > MAX_DEPTH:
        raise HtmlTooComplexError(f"HTML nested deeper than {MAX_DEPTH} levels", url=url)
    return starts
