"""The ``vnnews`` command's entry point. The CLI's imports (about a second) run inside it, so
Ctrl-C while they load ends the command as it does later: one line, exit 130, no traceback."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from jobs.cli import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write("vnnews: interrupted\n")
        raise SystemExit(130) from None
    cli_main()
