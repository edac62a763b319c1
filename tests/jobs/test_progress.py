"""The crawl's progress line on a terminal and log lines never share a line."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import logging
from jobs.display import progress_printer
from jobs.logs import setup_logging

setup_logging(0, "text")
progress, done = progress_printer()
progress("vnx", "http://127.0.0.1/a.html")
logging.getLogger("vnnews.crawl").info("site=vnx pass done")
progress("vnx", "http://127.0.0.1/b.html")
done()
"""


def test_a_log_line_clears_the_progress_line_first() -> None:
    master, slave = os.openpty()  # stderr is a real terminal
    try:
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT], stderr=slave, stdout=subprocess.DEVNULL, timeout=30
        )
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
    assert proc.returncode == 0
    text = out.decode()
    first = text.index("[1] vnx: http://127.0.0.1/a.html")
    cleared = text.index("\r\x1b[K", first)
    logged = text.index("INFO vnnews.crawl: site=vnx pass done", cleared)
    assert "[2] vnx: http://127.0.0.1/b.html" in text[logged:]
    assert text.rstrip(" ").endswith(("\n", "\r\n"))  # done() ends the last progress line
