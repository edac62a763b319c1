"""Evaluation gate: the generic extractor on the dev set (Mozilla Readability's 125 test pages,
``shared/devsets/readability`` beside the clone) must not fall below a pinned floor.

The floors sit a little under today's figures (F1 0.947, P 0.958, R 0.936): a change that
makes the extractor worse on pages it was not written for fails here. trafilatura's own run is
in ``bench/extract.py``, not here: the gate compares with the pinned figures, not timings.
Skipped only when the dev set is absent outside CI (CI has shared/ beside the clone).
"""

from __future__ import annotations

import os

import pytest

from scraper.extract import extract_generic
from scraper.extract.chrome import is_chrome_node
from scraper.extract.generic import _is_chrome_marked
from tests.support.scoring import CATASTROPHIC_BELOW, DEVSET, load_corpus, score_corpus, score_page

F1_FLOOR = 0.937
RECALL_FLOOR = 0.915
PRECISION_FLOOR = 0.95
# pages scored under 0.5: today 3, and trafilatura scores under 0.8 on all three
MAX_BELOW_HALF = 4

pytestmark = pytest.mark.skipif(
    not (DEVSET / "truth.json").is_file() and not os.environ.get("CI"),
    reason=f"dev set not found at {DEVSET}",
)


def test_generic_extractor_holds_on_the_dev_set() -> None:
    cases = load_corpus(DEVSET / "pages", DEVSET / "truth.json")
    assert len(cases) == 125
    scores = {
        c.id: score_page(c.expected, extract_generic(c.html, "https://example.org/page.html").text)
        for c in cases
    }
    total = score_corpus(scores.values())
    below = sorted(page for page, s in scores.items() if s.f1 < CATASTROPHIC_BELOW)
    summary = f"F1 {total.f1:.3f} P {total.precision:.3f} R {total.recall:.3f}; under 0.5: {below}"
    assert total.f1 >= F1_FLOOR, summary
    assert total.precision >= PRECISION_FLOOR, summary
    assert total.recall >= RECALL_FLOOR, summary
    assert len(below) <= MAX_BELOW_HALF, summary


def test_scoring_counts_shingles_as_multisets() -> None:
    same = score_page("one two three four five", "one two three four five")
    assert (same.precision, same.recall) == (1.0, 1.0)
    half = score_page("a b c d e f g h", "a b c d e")
    assert half.precision == 1.0 and half.recall == pytest.approx(2 / 5)
    assert score_page("a b c d", "").precision is None


@pytest.mark.parametrize("page", ["quanta-1", "telegraph", "medium-3"])
def test_an_article_split_into_sections_is_read_whole(page: str) -> None:
    """Each section of these articles sits in a wrapper of its own (same tag, mostly the same
    class names) beside the others; the scorer sees each apart and the best alone held 43-69 %
    of the text. ``generic._sections`` takes the sibling sections that hold prose."""
    (case,) = [c for c in load_corpus(DEVSET / "pages", DEVSET / "truth.json") if c.id == page]
    score = score_page(case.expected, extract_generic(case.html, "https://example.org/p.html").text)
    assert score.recall >= 0.95 and score.precision >= 0.95, score


@pytest.mark.parametrize(
    ("page", "opening"),
    [
        ("herald-sun-1", "The roadshow featured the Prime Minister’s national security adviser"),
        ("mozilla-2", "Develop, deploy and debug Firefox OS apps directly in your browser"),
    ],
)
def test_the_wrapper_above_the_best_box_is_the_body_when_it_scores_more(
    page: str, opening: str
) -> None:
    """The best-scoring box is the article's second half ("read more", a features grid); its
    first paragraphs sit in the wrapper above, which scores more than the box's own wrappers
    between them. Readability's climb (``generic._climb``) takes the wrapper: before it, the
    opening paragraphs were lost (mozilla-2 scored F1 0.28, herald-sun-1 lost four)."""
    (case,) = [c for c in load_corpus(DEVSET / "pages", DEVSET / "truth.json") if c.id == page]
    text = extract_generic(case.html, "https://example.org/p.html").text
    assert opening in text
    assert score_page(case.expected, text).recall >= 0.7


def test_a_related_box_named_in_one_glued_word_is_chrome() -> None:
    """WordPress's Jetpack names its related-posts box ``jp-relatedposts``, other CMSs
    ``RelatedContent`` or ``contentRelatedArea``: "related" glued to another word names the
    box as much as "related-posts" does. Before, the box's three teasers were kept (F1 0.87)."""
    # through the stripping stage's own test (its case-sensitive prefilter included)
    names = ("jp-relatedposts", "RelatedContent", "contentRelatedArea")
    assert all(_is_chrome_marked(name, "") and _is_chrome_marked("", name) for name in names)
    for article_words in ("relationship-advice", "unrelated-news", "correlated-data"):
        assert not is_chrome_node(f"{article_words} ")
    (case,) = [
        c for c in load_corpus(DEVSET / "pages", DEVSET / "truth.json") if c.id == "wordpress"
    ]
    text = extract_generic(case.html, "https://example.org/p.html").text
    assert "Stack Overflow published the results of its 2016 Developer Survey" not in text
    assert score_page(case.expected, text).f1 >= 0.95


def test_a_section_named_after_its_heading_is_not_a_share_widget() -> None:
    """Sphinx names each section after its heading: ``<div class="section"
    id="sharing-with-a-single-developer"><h2>Sharing with a single developer``. "sharing" in
    that id is the article's word, not a share bar's name: the section stays (it held half
    the page's text)."""
    (case,) = [
        c for c in load_corpus(DEVSET / "pages", DEVSET / "truth.json") if c.id == "mercurial"
    ]
    text = extract_generic(case.html, "https://example.org/p.html").text
    assert "The key to shared mutable history is to keep your changesets in draft" in text
    assert score_page(case.expected, text).recall >= 0.9


def test_a_div_of_bare_text_beside_the_body_is_a_paragraph() -> None:
    """The last section of this page is text straight in a ``<div>``, beside the scored body:
    Readability reads a div without block children as a paragraph, and so does the sibling
    rule (``generic._bare_text``); it was left out (recall 0.49)."""
    (case,) = [
        c for c in load_corpus(DEVSET / "pages", DEVSET / "truth.json") if c.id == "embedded-videos"
    ]
    text = extract_generic(case.html, "https://example.org/p.html").text
    assert "Tempor incididunt ut labore" in text
    assert score_page(case.expected, text).recall >= 0.85


@pytest.mark.parametrize(
    ("page", "lead"),
    [
        # the h2 under the headline, not the photo caption before it (itemprop=description)
        ("liberation-1", "Laurent Fabius a accueilli jeudi matin à Roissy"),
        # "summary" boxes of other stories (links) are not this article's lead
        ("cnn", None),
        ("nytimes-1", None),
    ],
)
def test_a_description_named_box_is_the_lead_only_where_a_lead_can_be(
    page: str, lead: str | None
) -> None:
    (case,) = [c for c in load_corpus(DEVSET / "pages", DEVSET / "truth.json") if c.id == page]
    sapo = extract_generic(case.html, "https://example.org/p.html").sapo
    assert (sapo or "").startswith(lead) if lead else sapo is None, sapo
