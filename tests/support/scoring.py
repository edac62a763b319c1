"""Body-text scoring shared by the evaluation gate test and ``bench/extract.py``.

The scrapinghub article-extraction-benchmark way, as the dev set's README describes it: tokens
are ``\\w+`` (unicode, lower-cased), units are 4-token shingles compared as multisets; per page
precision and recall; precision is averaged over pages with predicted text, recall over pages
with true text, F1 is their harmonic mean. A "catastrophic failure" is a page scored below 0.5
while the reference extractor (trafilatura) scores 0.8 or more on it.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import ROOT


def _shared_dirs() -> list[Path]:
    """``shared/`` beside the clone (as CI has it), beside the main checkout when this is a
    git worktree (``.git`` is then a file naming ``<main>/.git/worktrees/<name>``), or beside
    the checkout this one was cloned from (``git clone . /tmp/check``)."""
    dirs = [ROOT.parent / "shared"]
    dot_git = ROOT / ".git"
    if dot_git.is_file():
        gitdir = dot_git.read_text(encoding="utf-8").removeprefix("gitdir:").strip()
        main = Path(gitdir).parent.parent.parent
        dirs.append(main.parent / "shared")
    elif dot_git.is_dir():
        origin = subprocess.run(
            ["git", "-C", str(ROOT), "config", "--get", "remote.origin.url"],
            capture_output=True, text=True, check=False,
        ).stdout.strip()  # fmt: skip
        if origin.startswith("/"):  # a local clone: the origin's own directory
            dirs.append(Path(origin).parent / "shared")
    return dirs


#: the generic-extraction dev set (Mozilla Readability's test pages), beside the clone
DEVSET = next(
    (d / "devsets" / "readability" for d in _shared_dirs() if (d / "devsets").is_dir()),
    ROOT.parent / "shared" / "devsets" / "readability",
)
CATASTROPHIC_BELOW = 0.5
REFERENCE_AT_LEAST = 0.8
_TOKEN_RE = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN_RE.findall(text.lower())
    if not tokens:
        return Counter()
    if len(tokens) < n:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


@dataclass(frozen=True, slots=True)
class PageScore:
    precision: float | None  # None: nothing predicted
    recall: float | None  # None: nothing expected

    @property
    def f1(self) -> float:
        p, r = self.precision or 0.0, self.recall or 0.0
        return 2 * p * r / (p + r) if p + r else 0.0


def score_page(expected: str, got: str) -> PageScore:
    e, g = shingles(expected), shingles(got)
    common = sum((e & g).values())
    return PageScore(
        precision=common / sum(g.values()) if g else None,
        recall=common / sum(e.values()) if e else None,
    )


@dataclass(frozen=True, slots=True)
class CorpusScore:
    f1: float
    precision: float
    recall: float
    pages: int


def score_corpus(scores: Iterable[PageScore]) -> CorpusScore:
    scores = list(scores)
    ps = [s.precision for s in scores if s.precision is not None]
    rs = [s.recall for s in scores if s.recall is not None]
    p = statistics.mean(ps) if ps else 0.0
    r = statistics.mean(rs) if rs else 0.0
    return CorpusScore(2 * p * r / (p + r) if p + r else 0.0, p, r, len(scores))


def catastrophic(mine: dict[str, PageScore], reference: dict[str, PageScore]) -> list[str]:
    """Pages where ``mine`` falls apart while the reference extractor does well."""
    return sorted(
        page
        for page, score in mine.items()
        if score.f1 < CATASTROPHIC_BELOW and reference[page].f1 >= REFERENCE_AT_LEAST
    )


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    html: bytes
    expected: str
    url: str | None


def load_corpus(pages: Path, truth: Path) -> list[Case]:
    """Pages ``<pages>/<id>.html`` with ``truth[<id>]["articleBody"]`` (the dev set's layout)."""
    data = json.loads(truth.read_text(encoding="utf-8"))
    cases = []
    for page_id in sorted(data):
        entry = data[page_id]
        path = pages / f"{page_id}.html"
        if not path.is_file():
            continue
        url = entry.get("url")
        cases.append(
            Case(page_id, path.read_bytes(), entry.get("articleBody") or "", url if url else None)
        )
    return cases
