"""How the CLI shows things: articles, versions, tables, progress. Times are shown in
Vietnam's zone; ``--json`` / ``--csv`` output keeps ISO 8601 UTC."""

from __future__ import annotations

import csv
import difflib
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from typing import Any

import click

from jobs.logs import PROGRESS_LINE
from scraper.dates import VN_TZ, parse_iso8601
from storage.export import record


def progress_printer() -> tuple[Callable[[str, str], None], Callable[[], None]]:
    """A one-line progress display on a terminal (stderr); silent otherwise."""
    tty = sys.stderr.isatty()
    count = [0]

    def progress(site: str, url: str) -> None:
        count[0] += 1
        if tty:
            click.echo(f"\r[{count[0]}] {site}: {url[:90]:<90}", nl=False, err=True)
            PROGRESS_LINE.showing = True  # a log line clears it first (jobs.logs)

    def done() -> None:
        if PROGRESS_LINE.showing:
            PROGRESS_LINE.showing = False
            click.echo("", err=True)

    return progress, done


def progress_bar(total: int, label: str) -> AbstractContextManager[Any]:
    """click's progress bar on a terminal (stderr); a no-op elsewhere. ``.update(1)`` ticks.

    Drawn at most ~500 times in all: redrawn at every tick, an export of 200,000 articles spent
    a third of its time writing 17 MB to the terminal, and its first estimate, made after one
    article, said five days."""
    if not sys.stderr.isatty():
        return nullcontext(_Silent())
    return _throttled(
        click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True),
        every=max(1, total // _DRAWS),
    )


#: how many times at most a progress bar is drawn
_DRAWS = 500


class _Batched:
    """Ticks passed on to the bar ``every`` at a time (the rest when the work ends)."""

    def __init__(self, bar: Any, every: int) -> None:
        self.bar, self.every, self.pending = bar, every, 0

    def update(self, n: int) -> None:
        self.pending += n
        if self.pending >= self.every:
            self.bar.update(self.pending)
            self.pending = 0


@contextmanager
def _throttled(bar: Any, every: int) -> Iterator[_Batched]:
    with bar:
        batched = _Batched(bar, every)
        try:
            yield batched
        finally:  # the bar ends where the work did (click's update_min_steps would stop short)
            if batched.pending:
                bar.update(batched.pending)


class _Silent:
    def update(self, n: int) -> None:
        pass


def plain(value: Any) -> Any:
    """A value as JSON/CSV shows it: times ISO 8601 (UTC), the rest as is."""
    return value.isoformat() if isinstance(value, datetime) else value


def dumps(data: dict[str, Any]) -> str:
    return json.dumps({k: plain(v) for k, v in data.items()}, ensure_ascii=False)


def print_table(
    rows: Sequence[dict[str, Any]], as_json: bool, as_csv: bool, text: Callable[[], None]
) -> None:
    """``--json`` (a line per row), ``--csv`` (a header; lists and booleans as JSON: ``true``,
    not Python's ``True``) or the text view."""
    if as_json:
        for row in rows:
            click.echo(dumps(row))
    elif as_csv:
        if not rows:
            return
        out = csv.writer(sys.stdout)
        out.writerow(list(rows[0]))
        for row in rows:
            out.writerow(
                [
                    json.dumps(v, ensure_ascii=False)
                    if isinstance(v, list | dict | bool)
                    else plain(v)
                    for v in row.values()
                ]
            )
        sys.stdout.flush()
    else:
        text()


def local(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        value = parse_iso8601(value) or value
    if isinstance(value, datetime):
        return value.astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M (GMT+7)")
    return str(value)


def print_article(a: dict[str, Any]) -> None:
    if a.get("site"):
        click.echo(f"site:      {a['site']}")
    click.echo(f"title:     {a.get('title') or '-'}")
    click.echo(f"url:       {a.get('url')}")
    if a.get("canonical_url") and a.get("canonical_url") != a.get("url"):
        click.echo(f"canonical: {a['canonical_url']}")
    click.echo(f"published: {local(a.get('published_at'))}")
    if a.get("updated_at"):
        click.echo(f"updated:   {local(a.get('updated_at'))}")
    click.echo(f"authors:   {', '.join(a.get('authors') or []) or '-'}")
    click.echo(f"category:  {a.get('category') or '-'}")
    if a.get("tags"):
        click.echo(f"tags:      {', '.join(a['tags'])}")
    if a.get("source"):
        click.echo(f"source:    {a['source']}")
    click.echo(f"images:    {len(a.get('images') or [])}")
    click.echo("")
    if a.get("sapo"):
        click.echo(a["sapo"])
        click.echo("")
    click.echo(a.get("text") or "")


def _when(art: Any) -> str:
    if art.published_at:
        return str(art.published_at.astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M"))
    return "????-??-?? ??:??"


def article_rows(rows: Iterable[tuple[Any, str]]) -> list[dict[str, Any]]:
    """Every field of each article (the export's record) for ``--json`` / ``--csv``."""
    return [record(art, site) for art, site in rows]


def print_article_rows(
    rows: list[tuple[Any, str]], as_json: bool, as_csv: bool = False, snippets: Sequence[str] = ()
) -> None:
    records = article_rows(rows)
    for rec, snip in zip(records, snippets, strict=False):
        rec["snippet"] = snip

    def text() -> None:
        tty = sys.stdout.isatty()
        for i, (art, site_name) in enumerate(rows):
            click.echo(f"{art.id:>7}  {_when(art)}  {site_name:<14}  {art.title or art.url}")
            if i < len(snippets) and snippets[i]:
                click.echo("         " + highlight(snippets[i], tty))

    print_table(records, as_json, as_csv, text)


def highlight(snippet: str, tty: bool) -> str:
    """A search snippet's ``**marks**`` as bold on a terminal, kept as they are elsewhere."""
    if not tty:
        return snippet
    parts = snippet.split("**")
    return "".join(click.style(p, bold=True) if i % 2 else p for i, p in enumerate(parts))


def print_versions(versions: list[Any]) -> None:
    previous = None
    for i, v in enumerate(versions, 1):
        click.echo(f"version {i}  {local(v.fetched_at)}  {v.content_hash[:12]}  {v.title or ''}")
        if previous is not None:
            diff = difflib.unified_diff(
                (previous.text or "").splitlines(),
                (v.text or "").splitlines(),
                f"version {i - 1}",
                f"version {i}",
                lineterm="",
                n=1,
            )
            for line in diff:
                click.echo("  " + line)
        previous = v


def when(value: datetime | None) -> str:
    return value.astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M") if value else "never"
