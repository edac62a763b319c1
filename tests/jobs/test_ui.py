"""``vnnews ui`` runs the real Datasette in a child process on a loopback port: a vnnews stopped
by a signal stops its Datasette and removes its temporary folder; a port already taken is one
usage line, before Datasette starts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest
from click.testing import CliRunner

from jobs.cli import cli
from tests.support.mirror import dead_port

VNNEWS = str(Path(sys.executable).parent / "vnnews")


def _upgraded(tmp_path: Path) -> str:
    db = str(tmp_path / "a.db")
    assert CliRunner().invoke(cli, ["--db", db, "db", "upgrade"]).exit_code == 0
    return db


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize(
    "sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: signal.Signals(s).name
)
def test_a_stopped_ui_stops_its_datasette_and_removes_its_folder(
    tmp_path: Path, sig: signal.Signals
) -> None:
    db = _upgraded(tmp_path)  # an empty archive is enough to serve
    tmp = tmp_path / "tmp"  # where the ui's temporary folder goes (TMPDIR)
    tmp.mkdir()
    port = dead_port()
    log = (tmp_path / "ui.log").open("wb")
    # a session of its own: the signal reaches vnnews alone, as `kill -TERM <pid>` does
    proc = subprocess.Popen(
        [VNNEWS, "--db", db, "ui", "--port", str(port)], stdout=log, stderr=log,
        start_new_session=True, env={**os.environ, "TMPDIR": str(tmp)},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not _answers(port):
            assert proc.poll() is None and time.monotonic() < deadline, (
                tmp_path / "ui.log"
            ).read_text()
            time.sleep(0.1)
        (datasette,) = _children(proc.pid)
        assert [p.name[:10] for p in tmp.iterdir()] == ["vnnews-ui-"]

        os.kill(proc.pid, sig)
        status = proc.wait(timeout=20)
        assert not _running(datasette), "datasette outlived vnnews ui"
        assert not _answers(port)
        assert list(tmp.iterdir()) == []  # the metadata and plugin folder is gone
        assert status == 0
    finally:
        with suppress(ProcessLookupError):  # an orphaned datasette shares the session's group
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()


def test_ui_on_a_port_in_use_is_one_usage_line(tmp_path: Path) -> None:
    db = _upgraded(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [VNNEWS, "--db", db, "ui", "--port", str(port)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        f"vnnews ui: Invalid value for --port: port {port} on 127.0.0.1 is in use: choose another\n"
    )
