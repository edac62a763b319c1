"""Where the test data lives: recorded real pages, their goldens, the project root."""

from __future__ import annotations

import json
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
REAL = TESTS / "fixtures" / "real"
GOLDEN = TESTS / "golden"


def golden(fixture: str) -> dict[str, object]:
    """The reviewed expected article for ``fixture`` (a path under REAL)."""
    data: dict[str, object] = json.loads((GOLDEN / (fixture + ".json")).read_text(encoding="utf-8"))
    return data
