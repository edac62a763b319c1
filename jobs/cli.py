"""The ``vnnews`` command: a thin click layer over the use cases and the repository.

The commands live in ``cmd_crawl`` (run, crawl, backfill, reextract), ``cmd_pages`` (extract,
probe), ``cmd_archive`` (articles, search, show, sites, stats, db) and ``cmd_export`` (export,
ui); this module is the group. A closed pipe (``| head``) ends a command quietly with status 0.
Every command turns vnnews errors into one line on stderr naming what failed, with exit status 1
(2 for bad configuration or usage); ``VNNEWS_DEBUG=1`` shows tracebacks instead.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from jobs import cmd_archive, cmd_crawl, cmd_export, cmd_health, cmd_pages, interrupt
from jobs.context import EXIT_STATUS, Ctx
from jobs.logs import setup_logging
from scraper.errors import ConfigError, VnnewsError
from storage.db import DEFAULT_DB

F = TypeVar("F", bound=Callable[..., Any])


class VnnewsGroup(click.Group):
    """Turns errors into one line: ``vnnews: <what failed>``."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:  # a bad global option
            _usage(exc)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            # SIGTERM (``timeout``, cron wrappers, service managers) stops every command as
            # Ctrl-C does: its cleanup runs (an export's partial file, a backup's), exit 143
            with interrupt.sigterm_as_interrupt():
                return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:  # a bad command, option or argument
            _usage(exc)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except ConfigError as exc:
            _fail(exc, 2)
        except VnnewsError as exc:
            _fail(exc, 1)
        except KeyboardInterrupt as exc:
            if isinstance(exc, interrupt.Terminated):  # a SIGTERM: 128 + 15
                click.echo("vnnews: terminated", err=True)
                sys.exit(143)
            click.echo("vnnews: interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            _closed_pipe(ctx.meta.get(EXIT_STATUS, 0))
        except Exception as exc:
            _fail(exc, 1, unexpected=True)


def _closed_pipe(status: int) -> NoReturn:
    """``vnnews articles --json | head -2``: the reader has what it wanted; exit quietly, 0, or
    the status a command decided before printing (``health``, ``db check``: their answer).
    stdout goes to /dev/null so the interpreter's final flush does not raise again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(status)


def _usage(exc: click.UsageError) -> NoReturn:
    """Usage errors are one line too (click's own display takes four), exit status 2."""
    where = exc.ctx.command_path if exc.ctx else "vnnews"
    click.echo(f"{where}: {exc.format_message()}{_global_option_hint(exc)}", err=True)
    sys.exit(2)


def _global_option_hint(exc: click.UsageError) -> str:
    """``vnnews crawl --config x.toml``: ``--config`` (like ``--db``, ``-v``, ``-q``) belongs to
    ``vnnews`` itself, before the command; the error says so rather than only "No such option"."""
    if not isinstance(exc, click.NoSuchOption) or exc.ctx is None or exc.ctx.parent is None:
        return ""
    command = exc.ctx.command_path.partition(" ")[2]  # "db upgrade": without "vnnews"
    name = exc.option_name
    # ``vnnews search -vang``: a word to search for, not a mistyped option (click names only
    # the first letter of a cluster, "-v": a word may hide behind a short option)
    word = (
        any(p.name == "words" for p in exc.ctx.command.params)
        and not exc.possibilities
        and not name.startswith("--")
    )
    # after "--", "-word" leaves the word out (storage.search): the words to find go there too
    word_hint = (
        f"a word to leave out goes after '--' with the words to find: "
        f"`vnnews {command} -- WORDS -word`"
    )
    root = exc.ctx.find_root()
    if not any(name in param.opts for param in root.command.params):
        return f" ({word_hint})" if word else ""
    own = f"{name} is an option of vnnews itself: put it before the command, as in "
    own += f"`vnnews {name} ... {command}`"
    return f" ({own}; or {word_hint})" if word else f" ({own})"


def _fail(exc: BaseException, code: int, unexpected: bool = False) -> None:
    if os.environ.get("VNNEWS_DEBUG"):
        raise exc
    msg = str(exc).splitlines()[0] if str(exc) else ""
    prefix = f"{type(exc).__name__}: " if unexpected or not msg else ""
    click.echo(f"vnnews: {prefix}{msg}", err=True)
    sys.exit(code)


@click.group(cls=VnnewsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="VNNEWS_DB",
    default=DEFAULT_DB,
    show_default=True,
    help="The archive: an SQLite file path or a SQLAlchemy URL (sqlite:///..., "
    "postgresql://...; env VNNEWS_DB).",
)
@click.option(
    "--config",
    "config_path",
    envvar="VNNEWS_CONFIG",
    default="sources.toml",
    show_default=True,
    help="Sources file (env VNNEWS_CONFIG).",
)
@click.version_option(package_name="vnnews", prog_name="vnnews", message="%(prog)s %(version)s")
@click.option("-v", "--verbose", count=True, help="More logging (-v debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.pass_context
def cli(ctx: click.Context, db: str, config_path: str, verbose: int, quiet: bool) -> None:
    """vnnews: archive Vietnamese provincial news (raw HTML and clean articles)."""
    verbosity = -1 if quiet else verbose
    setup_logging(verbosity)
    named = ctx.get_parameter_source("config_path") is not click.core.ParameterSource.DEFAULT
    ctx.obj = Ctx(db, config_path, verbosity=verbosity, config_named=named)


COMMANDS: tuple[click.Command, ...] = (
    cmd_crawl.run, cmd_crawl.crawl, cmd_crawl.backfill, cmd_crawl.reextract,
    cmd_pages.extract, cmd_pages.probe,
    cmd_archive.articles, cmd_archive.search, cmd_archive.show, cmd_archive.sites,
    cmd_archive.stats, cmd_archive.db, cmd_health.health,
    cmd_export.export, cmd_export.ui,
)  # fmt: skip
for _command in COMMANDS:
    cli.add_command(_command)


def main() -> None:
    try:
        cli(prog_name="vnnews")
    finally:
        # what is left is frozen out of the cyclic collector: the interpreter's exit skips a
        # last full collection over every object a crawl made (~0.25 s). Exit handlers
        # (logging, the pool) still run; the commands close their database and files themselves
        gc.freeze()
