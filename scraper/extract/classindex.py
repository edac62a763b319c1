"""Which class names and ids a page uses, read once, so selectors skip what cannot match.

lexbor tests every alternative of a selector list against every element: about 8 µs per
alternative on a typical page, and the generic vocabulary's lists (sapo, byline, dateline,
never-text) have 10 to 22 alternatives, most naming classes a given page never uses. One pass
over the elements that carry a class or id (``PageClasses.of``) gives the page's class tokens
and ids; ``trim`` then leaves out each alternative that needs a class, id or class substring
the page lacks. What is left matches exactly what the whole list matched, in the same order.

The pass also hands its (node, class, id) list to ``generic.strip_generic_chrome``, which
would otherwise make the same pass again.

Conservative by construction: tokens are compared lower-cased (a quirks-mode page matches
class names without regard to case) and split on any whitespace, so a doubtful alternative is
kept, never dropped; an alternative with a pseudo-class argument (``:not(.x)``) or an escape is
always kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from selectolax.lexbor import LexborHTMLParser, LexborNode

#: (node, class value, id value) of each element with a class or id, in document order
Marked = tuple[tuple[LexborNode, str, str], ...]
# every element with a class or an id, listed once: lexbor lists an element once per alternative
# it matches, and these exclude each other
_MARKED_CSS = "[class], [id]:not([class])"

# an attribute selector, with "]" allowed inside a quoted value
_ATTR_RE = re.compile(r"""\[(?:[^\]'"]|'[^']*'|"[^"]*")*\]""")
_CLASS_SUBSTRING_RE = re.compile(r"""^\[\s*class\s*\*=\s*(['"]?)([^'"\s\]]+)\1\s*[iIsS]?\s*\]$""")
_NAME_RE = re.compile(r"[.#](-?[_a-zA-Z][\w-]*)")


@dataclass(frozen=True, slots=True)
class _Needs:
    """What one selector alternative needs of a page to match anything."""

    tokens: frozenset[str]  # class names and ids, lower-cased
    substrings: tuple[str, ...]  # of some class value (``[class*=x]``), lower-cased


def _split_alternatives(selector: str) -> list[str]:
    """The comma-separated alternatives of a selector list (commas inside brackets, parentheses
    or quotes do not split)."""
    out: list[str] = []
    depth, quote, start, escaped = 0, "", 0, False
    for i, ch in enumerate(selector):
        if escaped:  # the character after a backslash is literal (".a\\,b" is one class)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(selector[start:i].strip())
            start = i + 1
    out.append(selector[start:].strip())
    return [alt for alt in out if alt]


def _needs(alternative: str) -> _Needs:
    # a pseudo-class argument (":not(.x)"), an escape or a non-ASCII name: nothing is assumed
    if "(" in alternative or "\\" in alternative or not alternative.isascii():
        return _Needs(frozenset(), ())
    substrings: list[str] = []
    for attr in _ATTR_RE.findall(alternative):
        m = _CLASS_SUBSTRING_RE.match(attr)
        if m is not None:
            substrings.append(m.group(2).lower())
    bare = _ATTR_RE.sub(" ", alternative)
    tokens = frozenset(name.lower() for name in _NAME_RE.findall(bare))
    return _Needs(tokens, tuple(substrings))


@lru_cache(maxsize=256)
def _parsed(selector: str) -> tuple[tuple[str, _Needs], ...]:
    return tuple((alt, _needs(alt)) for alt in _split_alternatives(selector))


@dataclass(frozen=True, slots=True)
class PageClasses:
    """The class tokens and ids one page uses, and its body's elements that carry them."""

    tokens: frozenset[str]
    #: every distinct class value, lower-cased, one per line (for ``[class*=x]``)
    values: str
    marked: Marked
    #: False when the page has no body (a frameset): then nothing is trimmed
    complete: bool = True

    @classmethod
    def of(cls, tree: LexborHTMLParser) -> PageClasses:
        body = tree.body
        if body is None:
            return cls(frozenset(), "", (), complete=False)
        marked = marked_elements(body)
        values = {cls for _, cls, _ in marked}
        ids = {id_ for _, _, id_ in marked}
        # the few outside the body: <html>, <body> and the head's elements
        outside = [*(tree.head.css(_MARKED_CSS) if tree.head is not None else ()), body]
        root = tree.root
        if root is not None:
            outside.append(root)
        for node in outside:
            attrs = node.attributes
            values.add(attrs.get("class") or "")
            ids.add(attrs.get("id") or "")
        joined = "\n".join(values).lower()
        tokens = frozenset(joined.split()).union("\n".join(ids).lower().split("\n"))
        return cls(tokens, joined, marked)

    def trim(self, selector: str) -> str:
        """``selector`` without the alternatives that cannot match on this page ("" if none
        can)."""
        if not self.complete:
            return selector
        tokens, values = self.tokens, self.values
        # a page trims ~90 alternatives, most needing one class name: the test is inline
        return ", ".join(
            [
                alt
                for alt, needs in _parsed(selector)
                if needs.tokens <= tokens
                and (not needs.substrings or all(sub in values for sub in needs.substrings))
            ]
        )

    def css(self, scope: LexborHTMLParser | LexborNode, selector: str) -> list[LexborNode]:
        """``scope.css(selector)``, only the alternatives that can match run."""
        trimmed = self.trim(selector)
        return scope.css(trimmed) if trimmed else []

    def css_first(self, scope: LexborHTMLParser | LexborNode, selector: str) -> LexborNode | None:
        trimmed = self.trim(selector)
        return scope.css_first(trimmed) if trimmed else None


def marked_elements(root: LexborNode) -> Marked:
    """``root`` and its descendants that carry a class or id, each once, in document order."""
    # two direct reads: ``attributes`` builds a dict of every attribute
    return tuple(
        [(node, node.attrs.get("class") or "", node.id or "") for node in root.css(_MARKED_CSS)]
    )


def page_css(
    classes: PageClasses | None, scope: LexborHTMLParser | LexborNode, selector: str
) -> list[LexborNode]:
    """``scope.css(selector)``, trimmed to the page's classes when they are known."""
    return classes.css(scope, selector) if classes is not None else scope.css(selector)
