"""Which boxes beside the article's wrapper are more of the article (``generic._sections``):
the same kind of box by its class names, not one shared grid name."""

from __future__ import annotations

import pytest

from scraper.extract.generic import _same_kind


@pytest.mark.parametrize(
    ("wrapper", "sibling", "same"),
    [
        ("acf-content scale1 mt2", "acf-content scale1 mt2", True),  # quanta: one class
        ("articleBodyText version-2 section", "articleBodyText section", True),  # telegraph
        ("col-12 col-md-8", "col-12 col-md-4", False),  # the article's column, the sidebar
        ("w640 fr clear", "w640 fl", False),
        ("row", "row mb-3 author-bio", False),
    ],
)
def test_same_kind_of_box(wrapper: str, sibling: str, same: bool) -> None:
    assert _same_kind(frozenset(wrapper.split()), frozenset(sibling.split())) is same
