"""Logging for the CLI and the daemon: text on a terminal, one JSON object a line otherwise.

``setup_logging(verbosity, fmt)``: ``fmt`` is ``"auto"`` (JSON when stderr is not a TTY: a
service manager, a container, a pipe), ``"json"`` or ``"text"``. A JSON line has ``time``
(UTC, ISO 8601), ``level``, ``logger``, ``msg`` and, when the message names them
(``site=... url=...``), ``site`` and ``url`` as fields of their own. Every line, in both
formats, has database passwords masked (``postgresql://user:***@host/db``).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Literal

LogFormat = Literal["auto", "json", "text"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# scheme://user:password@ → scheme://user:***@ (SQLAlchemy URLs, proxies, anything)
# a scheme is short: an unbounded one made each letter of "a.a.a...." in a long URL scan to
# the run's end (quadratic, on every log line)
_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]{0,63}://[^\s:/@]*:)[^\s@/]+@", re.IGNORECASE)
_FIELDS = re.compile(r"\b(site|url)=(\S+)")


def redact(text: str) -> str:
    """Mask the password of every URL in ``text``. Pure."""
    return _PASSWORD.sub(lambda m: m.group("head") + "***@", text)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line; an exception's traceback goes in ``exc`` (one string)."""

    def format(self, record: logging.LogRecord) -> str:
        msg = redact(record.getMessage())
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": msg,
        }
        for key, value in _FIELDS.findall(msg):
            # "url=%s: ..." in a message: the colon is the sentence's, not the URL's
            line.setdefault(key, value.rstrip(":"))
        for key in ("site", "url"):
            value = record.__dict__.get(key)
            if isinstance(value, str):
                line[key] = redact(value)
        if record.exc_info:
            line["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


class ProgressLine:
    """Whether a progress line (``display.progress_printer``) stands unfinished on the
    terminal: a log record clears it first, so the two never share a line; the next progress
    update draws it again."""

    showing = False


PROGRESS_LINE = ProgressLine()
_CLEAR_LINE = "\r\x1b[K"  # to the line's start, erase to its end


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    def emit(self, record: logging.LogRecord) -> None:
        if PROGRESS_LINE.showing:
            PROGRESS_LINE.showing = False
            self.stream.write(_CLEAR_LINE)
        super().emit(record)


def use_json(fmt: LogFormat, is_tty: bool) -> bool:
    return fmt == "json" or (fmt == "auto" and not is_tty)


def setup_logging(verbosity: int, fmt: LogFormat = "auto") -> None:
    """``verbosity`` -1 (warnings), 0 (info) or 1+ (debug). Replaces the handler it set before
    (``vnnews run --log-format`` sets it again after the global options)."""
    level = logging.WARNING if verbosity < 0 else logging.DEBUG if verbosity > 0 else logging.INFO
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "vnnews", False)]:
        root.removeHandler(old)
    if root.handlers:  # someone else owns logging (a test harness): like logging.basicConfig
        return
    handler = StderrHandler(sys.stderr)
    handler.vnnews = True  # type: ignore[attr-defined]
    tty = bool(getattr(sys.stderr, "isatty", lambda: False)())
    handler.setFormatter(JsonFormatter() if use_json(fmt, tty) else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)
