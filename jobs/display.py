"""How the CLI shows things: articles, versions, progress. Times are shown in Vietnam's zone."""

from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from scraper.dates import VN_TZ, parse_iso8601


def progress_printer() -> tuple[Callable[[str, str], None], Callable[[], None]]:
    """A one-line progress display on a terminal (stderr); silent otherwise."""
    tty = sys.stderr.isatty()
    count = [0]

    def progress(site: str, url: str) -> None:
        count[0] += 1
        if tty:
            click.echo(f"\r[{count[0]}] {site}: {url[:90]:<90}", nl=False, err=True)

    def done() -> None:
        if tty and count[0]:
            click.echo("", err=True)

    return progress, done


def local(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        value = parse_iso8601(value) or value
    if isinstance(value, datetime):
        return value.astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M (GMT+7)")
    return str(value)


def print_article(a: dict[str, Any]) -> None:
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


def print_article_rows(rows: list[tuple[Any, str]], as_json: bool) -> None:
    for art, site_name in rows:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "id": art.id,
                        "site": site_name,
                        "url": art.url,
                        "title": art.title,
                        "published_at": art.published_at.isoformat() if art.published_at else None,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            when = (
                art.published_at.astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M")
                if art.published_at
                else "????-??-?? ??:??"
            )
            click.echo(f"{art.id:>7}  {when}  {site_name:<14}  {art.title or art.url}")


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
