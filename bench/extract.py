"""Extraction benchmark on the golden pages: body F1 and speed, vnnews vs trafilatura/readability.

Run: ``.venv/bin/python bench/extract.py`` (``make bench-extract``). Scoring follows the
scrapinghub article-extraction-benchmark: token 4-gram shingles of lower-cased ``\\w+`` tokens;
precision and recall averaged over pages, F1 computed from the averages. Time is wall time per
page including parsing, median and mean over a few repetitions, in one process.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scraper.extract import extract_article, extract_generic  # noqa: E402

GOLDEN = ROOT / "tests" / "golden"
PAGES = ROOT / "tests" / "fixtures" / "real"
REPEAT = 5
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


EXTRACTORS: dict[str, Callable[[bytes, str], str]] = {
    "vnnews generic": lambda html, url: extract_generic(html, url).text,
    "vnnews profile": lambda html, url: extract_article(html, url).text,
    "trafilatura 2.3": _trafilatura(False),
    "trafilatura precision": _trafilatura(True),
    "readability-lxml": _readability,
}


def main() -> None:
    warnings.simplefilter("ignore")
    cases = []
    for path in sorted(GOLDEN.glob("*/*.json")):
        golden = json.loads(path.read_text(encoding="utf-8"))
        html = (PAGES / path.parent.name / path.name.removesuffix(".json")).read_bytes()
        cases.append((path.parent.name + "/" + path.name.removesuffix(".html.json"), golden, html))
    rows = []
    per_page: dict[str, list[str]] = {}
    for name, fn in EXTRACTORS.items():
        ps, rs, times = [], [], []
        for case_id, golden, html in cases:
            got = fn(html, golden["url"])
            for _ in range(REPEAT):
                t0 = time.perf_counter()
                fn(html, golden["url"])
                times.append((time.perf_counter() - t0) * 1000)
            p, r = precision_recall(golden["text"], got)
            ps.append(p)
            rs.append(r)
            f = 2 * p * r / (p + r) if p + r else 0.0
            per_page.setdefault(case_id, []).append(f"{f:.3f}")
        P, R = statistics.mean(ps), statistics.mean(rs)
        F = 2 * P * R / (P + R) if P + R else 0.0
        rows.append((name, F, P, R, statistics.median(times), statistics.mean(times)))
    print(f"{len(cases)} golden pages, {REPEAT} timed runs each\n")
    print("| extractor | F1 | precision | recall | median ms | mean ms |")
    print("|---|---|---|---|---|---|")
    for name, F, P, R, med, mean in rows:
        print(f"| {name} | {F:.3f} | {P:.3f} | {R:.3f} | {med:.1f} | {mean:.1f} |")
    print("\nper-page F1: " + " / ".join(EXTRACTORS))
    print("| page | " + " | ".join(EXTRACTORS) + " |")
    print("|---|" + "---|" * len(EXTRACTORS))
    for case_id, fs in per_page.items():
        print(f"| {case_id} | " + " | ".join(fs) + " |")


if __name__ == "__main__":
    main()
