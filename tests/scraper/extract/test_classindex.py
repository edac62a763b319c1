"""``classindex``: a trimmed selector matches exactly what the whole list matches, in order.

Proven on every real page we have (the golden fixtures and the 125 dev-set pages) for every
generic selector list the extractor trims, and on the cases where trimming must hold back: a
quirks-mode page whose class names differ in case, pseudo-class arguments, a frameset.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from scraper.extract.classindex import PageClasses
from scraper.extract.pipeline import _DROP_CSS
from scraper.extract.vocabulary import (
    AUTHOR_CSS,
    BREADCRUMB_CSS,
    CAPTION_CSS,
    DATE_CSS,
    SAPO_CSS,
)
from tests.support.paths import REAL
from tests.support.scoring import DEVSET

SELECTORS = [SAPO_CSS, AUTHOR_CSS, DATE_CSS, BREADCRUMB_CSS, _DROP_CSS, CAPTION_CSS]
PAGES = sorted(REAL.rglob("*.html")) + sorted((DEVSET / "pages").glob("*.html"))


def _ids(nodes: list) -> list[int]:  # type: ignore[type-arg]
    return [n.mem_id for n in nodes]


@pytest.mark.skipif(
    not (DEVSET / "pages").is_dir() and not os.environ.get("CI"),
    reason=f"dev set not found at {DEVSET} (a clone outside the workspace; CI has it)",
)
def test_the_pages_are_there() -> None:
    assert len(PAGES) >= 130


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_trimmed_selectors_match_what_the_whole_lists_match(page: Path) -> None:
    tree = LexborHTMLParser(page.read_bytes())
    classes = PageClasses.of(tree)
    for selector in SELECTORS:
        assert _ids(classes.css(tree, selector)) == _ids(tree.css(selector)), selector
        first = classes.css_first(tree, selector)
        whole = tree.css_first(selector)
        assert (first.mem_id if first else None) == (whole.mem_id if whole else None)


def test_most_alternatives_are_left_out_on_real_pages() -> None:
    kept = total = 0
    for page in PAGES[:40]:
        classes = PageClasses.of(LexborHTMLParser(page.read_bytes()))
        for selector in (SAPO_CSS, AUTHOR_CSS, DATE_CSS):
            total += len(selector.split(","))
            kept += len(classes.trim(selector).split(",")) if classes.trim(selector) else 0
    assert kept < total / 2


def test_the_marked_list_is_the_body_elements_with_a_class_or_id_in_document_order() -> None:
    tree = LexborHTMLParser(
        '<html class="h"><head><meta class="m"></head><body id="b">'
        '<div class="a" id="x"><p class="b">t</p></div><span id="y">u</span></body></html>'
    )
    classes = PageClasses.of(tree)
    assert [(n.tag, c, i) for n, c, i in classes.marked] == [
        ("body", "", "b"),
        ("div", "a", "x"),
        ("p", "b", ""),
        ("span", "", "y"),
    ]
    assert {"h", "m", "a", "b", "x", "y"} <= classes.tokens


def test_a_class_that_differs_in_case_is_never_trimmed_away() -> None:
    # no doctype: quirks mode, where lexbor may match class names without regard to case
    tree = LexborHTMLParser('<html><body><p class="SAPO">Một đoạn sapo đủ dài.</p></body></html>')
    classes = PageClasses.of(tree)
    assert classes.trim(".sapo, .lead") == ".sapo"
    assert _ids(classes.css(tree, ".sapo")) == _ids(tree.css(".sapo"))


@pytest.mark.parametrize(
    ("selector", "kept"),
    [
        (".absent, div", "div"),
        ("div:not(.absent)", "div:not(.absent)"),  # a class inside a pseudo-class: kept
        (".a\\:b", ".a\\:b"),  # an escape: kept
        ("[class*=absent], [class*=pres i]", "[class*=pres i]"),
        ("[data-x='a.b'], #absent", "[data-x='a.b']"),  # a dot inside an attribute value
        ("#present .absent li", ""),
        ("", ""),
    ],
)
def test_trim_keeps_what_it_cannot_rule_out(selector: str, kept: str) -> None:
    tree = LexborHTMLParser('<html><body><div id="present" class="Present">x</div></body></html>')
    assert PageClasses.of(tree).trim(selector) == kept


def test_a_page_without_a_body_trims_nothing() -> None:
    tree = LexborHTMLParser("<html><frameset><frame src='a.html'></frameset></html>")
    classes = PageClasses.of(tree)
    if tree.body is None:
        assert classes.trim(SAPO_CSS) == SAPO_CSS
    assert _ids(classes.css(tree, SAPO_CSS)) == _ids(tree.css(SAPO_CSS))


@pytest.mark.parametrize(
    "selector",
    [
        ".a\\,b, .zz",  # an escaped comma is part of the class name
        ".ta\u0301c, .zz",  # a name with a combining mark
        "[data-x='a]#zz'], .zz",  # "]" and "#" inside a quoted value
        '[title="x.zz"] p, .zz',
    ],
)
def test_trimming_never_changes_what_a_tricky_selector_matches(selector: str) -> None:
    tree = LexborHTMLParser(
        '<html><body><p class="a,b">1</p><p class="ta\u0301c">2</p>'
        '<p data-x="a]#zz">3</p><div title="x.zz"><p>4</p></div></body></html>'
    )
    classes = PageClasses.of(tree)
    assert _ids(classes.css(tree, selector)) == _ids(tree.css(selector))
    assert _ids(tree.css(selector))  # each selector does match something here
