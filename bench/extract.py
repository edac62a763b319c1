"""Extraction benchmark: body F1 and speed, vnnews vs trafilatura, on two corpora.

1. The golden pages (tests/golden + tests/fixtures/real), vnnews generic and profile modes
   beside trafilatura and readability-lxml.
2. A corpus in the dev-set layout (``pages/<id>.html`` + ``truth.json``), by default the
   generic-extraction dev set ``../shared/devsets/readability`` (or ``--pages DIR --truth
   FILE``): vnnews generic beside trafilatura's ``bare_extraction`` with default options, in
   the same process, with F1, precision, recall, catastrophic failures (below 0.5 where
   trafilatura scores 0.8 or more) and median ms/page. Scoring: ``tests/support/scoring.py``.

Run: ``.venv/bin/python bench/extract.py`` (``make bench-extract``). Scoring follows the
scrapinghub article-extraction-benchmark: token 4-gram shingles of lower-cased ``\\w+`` tokens;
precision and recall averaged over pages, F1 computed from the averages. Time is wall time per
page including parsing, in one process: every extractor runs once per page untimed (scored, and
a warm-up), then ``REPEAT`` rounds run all extractors on all pages interleaved (their order
rotated each round, so none always follows another's run of the previous page); a page's time
is the median of its rounds, an extractor's time the median (and mean) over pages.

Generic extractors (vnnews generic, trafilatura, readability) get each page under an unknown
domain (``masked_url``), so no site profile can apply; only "vnnews profile" sees the real URL.
The last lines check the tracker's goals (issues #3 and #12) and the exit status is 1 if one
fails.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scraper.extract import extract_article, extract_generic  # noqa: E402
from tests.support.scoring import (  # noqa: E402
    DEVSET,
    PageScore,
    catastrophic,
    load_corpus,
    score_corpus,
    score_page,
)

GOLDEN = ROOT / "tests" / "golden"
PAGES = ROOT / "tests" / "fixtures" / "real"
REPEAT = 9
T = TypeVar("T")
_TOKEN_RE = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, n: int = 4) -> dict[tuple[str, ...], int]:
    tokens = _TOKEN_RE.findall(text.lower())
    out: dict[tuple[str, ...], int] = {}
    for i in range(max(1, len(tokens) - n + 1)):
        key = tuple(tokens[i : i + n])
        out[key] = out.get(key, 0) + 1
    return out


def precision_recall(expected: str, got: str) -> tuple[float, float]:
    e, g = shingles(expected), shingles(got)
    common = sum(min(c, g.get(k, 0)) for k, c in e.items())
    p = common / sum(g.values()) if g and got.strip() else 0.0
    r = common / sum(e.values()) if e else 0.0
    return p, r


def _trafilatura(precision: bool) -> Callable[[bytes, str], str]:
    import trafilatura

    def run(html: bytes, url: str) -> str:
        return (
            trafilatura.extract(
                html,
                url=url,
                favor_precision=precision,
                include_comments=False,
                include_tables=False,
            )
            or ""
        )

    return run


def _readability(html: bytes, url: str) -> str:
    from lxml.html import fromstring
    from readability import Document

    summary = Document(html, url=url).summary(html_partial=True)
    return str(fromstring(summary).text_content()) if summary.strip() else ""


def _generic(html: bytes, url: str) -> str:
    article = extract_generic(html, url)
    assert article.extractor == "generic", article.extractor
    return article.text


def _profile(html: bytes, url: str) -> str:
    article = extract_article(html, url)
    assert article.extractor.startswith("profile:"), article.extractor
    return article.text


# (name, function, gets the real URL): only the profile run may see the site's domain; every
# generic extractor gets the page under an unknown domain, so no site knowledge can apply
EXTRACTORS: list[tuple[str, Callable[[bytes, str], str], bool]] = [
    ("vnnews generic", _generic, False),
    ("vnnews profile", _profile, True),
    ("trafilatura 2.3", _trafilatura(False), False),
    ("trafilatura precision", _trafilatura(True), False),
    ("readability-lxml", _readability, False),
]
GENERIC, PROFILE = "vnnews generic", "vnnews profile"
MAX_RATIO = 0.20
PROFILE_PAGE_F1 = 0.98


def masked_url(url: str) -> str:
    """The same path on a domain no profile knows."""
    parts = urlsplit(url)
    return urlunsplit(("https", "example.org", parts.path or "/", parts.query, ""))


@dataclass
class Row:
    name: str
    f1: float
    precision: float
    recall: float
    median_ms: float
    mean_ms: float
    page_f1: dict[str, float]


def _turn(extractors: list[T], round_: int) -> list[T]:
    """The extractors in a round's order: rotated each round, so none always runs right after
    another's run on the previous page (its caches cold, the heap as the other left it)."""
    k = round_ % len(extractors)
    return extractors[k:] + extractors[:k]


def _timed(fn: Callable[[bytes, str], str], html: bytes, url: str) -> float:
    # as timeit does: no collector pauses charged to whoever happens to run next
    gc.disable()
    try:
        t0 = time.perf_counter()
        fn(html, url)
        return (time.perf_counter() - t0) * 1000
    finally:
        gc.enable()


def run(repeat: int = REPEAT) -> list[Row]:
    cases = []
    for path in sorted(GOLDEN.glob("*/*.json")):
        golden = json.loads(path.read_text(encoding="utf-8"))
        html = (PAGES / path.parent.name / path.name.removesuffix(".json")).read_bytes()
        cases.append((path.parent.name + "/" + path.name.removesuffix(".html.json"), golden, html))
    scores: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in EXTRACTORS}
    times: dict[str, dict[str, list[float]]] = {name: {} for name, _, _ in EXTRACTORS}
    for _case_id, golden, html in cases:
        for name, fn, real_url in EXTRACTORS:
            url = golden["url"] if real_url else masked_url(golden["url"])
            got = fn(html, url)  # the scored run doubles as the warm-up
            scores[name].append(precision_recall(golden["text"], got))
    # round-robin, so load on the machine falls on every extractor alike
    for round_ in range(repeat):
        gc.collect()
        for case_id, golden, html in cases:
            for name, fn, real_url in _turn(EXTRACTORS, round_):
                url = golden["url"] if real_url else masked_url(golden["url"])
                times[name].setdefault(case_id, []).append(_timed(fn, html, url))
    rows = []
    for name, _, _ in EXTRACTORS:
        ps = [p for p, _ in scores[name]]
        rs = [r for _, r in scores[name]]
        P, R = statistics.mean(ps), statistics.mean(rs)
        per_page = [statistics.median(t) for t in times[name].values()]
        page_f1 = {
            case_id: (2 * p * r / (p + r) if p + r else 0.0)
            for (case_id, _, _), (p, r) in zip(cases, scores[name], strict=True)
        }
        rows.append(
            Row(
                name,
                2 * P * R / (P + R) if P + R else 0.0,
                P,
                R,
                statistics.median(per_page),
                statistics.mean(per_page),
                page_f1,
            )
        )
    return rows


def _trafilatura_default(html: bytes, url: str | None) -> str:
    from trafilatura import bare_extraction

    doc = bare_extraction(html, url=url)
    return (doc.text if doc is not None else "") or ""


def _vnnews_generic(html: bytes, url: str | None) -> str:
    return extract_generic(html, url or "https://example.org/page.html").text


CORPUS_EXTRACTORS: list[tuple[str, Callable[[bytes, str | None], str]]] = [
    ("vnnews generic", _vnnews_generic),
    ("trafilatura 2.3 (bare_extraction)", _trafilatura_default),
]
CORPUS_REPEAT = 5
MAX_CATASTROPHIC = 3
MIN_SPEEDUP = 5.0


def run_corpus(pages: Path, truth: Path, repeat: int = CORPUS_REPEAT) -> list[tuple[str, bool]]:
    """Score and time every corpus extractor; print the table; return the goal checks."""
    cases = load_corpus(pages, truth)
    scores: dict[str, dict[str, PageScore]] = {name: {} for name, _ in CORPUS_EXTRACTORS}
    times: dict[str, dict[str, list[float]]] = {name: {} for name, _ in CORPUS_EXTRACTORS}
    for case in cases:
        for name, fn in CORPUS_EXTRACTORS:
            scores[name][case.id] = score_page(case.expected, fn(case.html, case.url))
    for round_ in range(repeat):
        gc.collect()
        for case in cases:
            for name, fn in _turn(CORPUS_EXTRACTORS, round_):
                times[name].setdefault(case.id, []).append(
                    _timed(lambda h, u, f=fn: f(h, u), case.html, case.url or "")  # type: ignore[misc]
                )
    reference = scores[CORPUS_EXTRACTORS[1][0]]
    print(f"\n{len(cases)} pages from {pages} (truth: {truth.name}); time: median over pages of")
    print(f"each page's median of {repeat} interleaved runs\n")
    print("| extractor | F1 | precision | recall | catastrophic | median ms/page |")
    print("|---|---|---|---|---|---|")
    summary: dict[str, tuple[float, int, float]] = {}
    for name, _ in CORPUS_EXTRACTORS:
        total = score_corpus(scores[name].values())
        failed = catastrophic(scores[name], reference)
        ms = statistics.median(statistics.median(t) for t in times[name].values())
        summary[name] = (total.f1, len(failed), ms)
        print(
            f"| {name} | {total.f1:.3f} | {total.precision:.3f} | {total.recall:.3f} "
            f"| {len(failed)} | {ms:.2f} |"
        )
        if failed and name != CORPUS_EXTRACTORS[1][0]:
            print(f"catastrophic pages ({name}): {', '.join(failed)}")
    mine, ref = summary[CORPUS_EXTRACTORS[0][0]], summary[CORPUS_EXTRACTORS[1][0]]
    speedup = ref[2] / mine[2] if mine[2] else float("inf")
    return [
        (f"corpus F1 {mine[0]:.3f} >= trafilatura F1 {ref[0]:.3f}", mine[0] >= ref[0]),
        (
            f"corpus catastrophic failures {mine[1]} <= {MAX_CATASTROPHIC}",
            mine[1] <= MAX_CATASTROPHIC,
        ),
        (
            f"corpus speed {ref[2]:.2f}/{mine[2]:.2f} ms = {speedup:.2f}x >= {MIN_SPEEDUP:.0f}x",
            speedup >= MIN_SPEEDUP,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=Path, default=DEVSET / "pages", help="corpus pages dir")
    parser.add_argument("--truth", type=Path, default=DEVSET / "truth.json", help="truth.json")
    parser.add_argument("--skip-golden", action="store_true", help="only the corpus")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    checks: list[tuple[str, bool]] = []
    if not args.skip_golden:
        checks.extend(golden_report())
    if args.pages.is_dir() and args.truth.is_file():
        checks.extend(run_corpus(args.pages, args.truth))
    else:
        print(f"\nno corpus at {args.pages} / {args.truth}: skipped")
    print()
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}: {text}")
    return 0 if all(ok for _, ok in checks) else 1


def golden_report() -> list[tuple[str, bool]]:
    rows = run()
    by_name = {row.name: row for row in rows}
    pages = len(rows[0].page_f1)
    print(
        f"{pages} golden pages; generic extractors see each page at {masked_url('https://x/')}..."
    )
    print(f"time: median over pages of each page's median of {REPEAT} interleaved runs\n")
    print("| extractor | F1 | precision | recall | median ms | mean ms |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row.name} | {row.f1:.3f} | {row.precision:.3f} | {row.recall:.3f} "
            f"| {row.median_ms:.2f} | {row.mean_ms:.2f} |"
        )
    print("\nper-page F1")
    print("| page | " + " | ".join(row.name for row in rows) + " |")
    print("|---|" + "---|" * len(rows))
    for case_id in rows[0].page_f1:
        print(f"| {case_id} | " + " | ".join(f"{row.page_f1[case_id]:.3f}" for row in rows) + " |")

    generic, profile = by_name[GENERIC], by_name[PROFILE]
    trafs = [row for row in rows if row.name.startswith("trafilatura")]
    best = max(trafs, key=lambda row: row.f1)
    ratio = generic.median_ms / best.median_ms
    worst_page, worst_f1 = min(profile.page_f1.items(), key=lambda kv: kv[1])
    checks = [
        (
            f"generic F1 {generic.f1:.3f} >= {best.name} F1 {best.f1:.3f}",
            generic.f1 >= best.f1,
        ),
        (
            f"time ratio generic/{best.name} = {generic.median_ms:.2f}/{best.median_ms:.2f} ms"
            f" = {ratio:.3f} <= {MAX_RATIO:.2f}",
            ratio <= MAX_RATIO,
        ),
        (
            f"profile F1 >= {PROFILE_PAGE_F1} on every page (lowest {worst_f1:.3f}, {worst_page})",
            worst_f1 >= PROFILE_PAGE_F1,
        ),
    ]
    return checks


if __name__ == "__main__":
    sys.exit(main())
