"""What every CLI command shares: the global options (``Ctx``) and date options."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import click

from jobs.config import Config, load_config
from scraper.dates import parse_iso8601

#: ``click.Context.meta`` key: the exit status a command has decided before printing (health,
#: db check), kept when the reader closes the pipe early (``jobs.cli``)
EXIT_STATUS = "vnnews.exit_status"


class Ctx:
    def __init__(
        self, db: str, config_path: str, *, verbosity: int = 0, config_named: bool = False
    ) -> None:
        self.db = db
        self.config_path = config_path
        #: the file was named (--config, $VNNEWS_CONFIG), not the default sources.toml
        self.config_named = config_named
        #: -1 quiet, 0 info, 1+ debug (commands that set logging up again keep it)
        self.verbosity = verbosity
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def config_if_any(self) -> Config | None:
        """The configuration, or None when there is no sources.toml (the commands that read
        the archive or one page need none); a sources.toml that is there must be valid, and a
        file named with --config or $VNNEWS_CONFIG must be there (a typo in its name would
        quietly change what ``sites`` says of each site)."""
        if self.config_named or Path(self.config_path).exists():
            return self.config
        return None


def parse_date(value: str | None, option: str, *, end_of_day: bool = False) -> datetime | None:
    """YYYY-MM-DD (a day in Vietnam) or a full ISO 8601 time → aware UTC."""
    if not value:
        return None
    parsed = parse_iso8601(value)
    if parsed is None:
        shaped = re.fullmatch(r"\s*\d{4}-\d{1,2}-\d{1,2}\s*", value) is not None
        raise click.BadParameter(
            f"{value!r}: no such day"  # 2026-02-30: the shape is right, the calendar is not
            if shaped
            else f"{value!r}: use YYYY-MM-DD or an ISO 8601 time",
            param_hint=option,
        )
    if end_of_day and len(value.strip()) == 10:
        parsed += timedelta(days=1) - timedelta(microseconds=1)
    return parsed


def parse_since(value: str | None) -> datetime | None:
    return parse_date(value, "--since")


def parse_window(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """``--since`` and ``--until`` (through the end of an ``--until`` day); an empty window is
    a usage error, not a silent empty result."""
    start, end = parse_since(since), parse_date(until, "--until", end_of_day=True)
    if start is not None and end is not None and start > end:
        raise click.BadParameter(f"{since} is after --until {until}", param_hint="--since")
    return start, end
