"""The crawler's CPU pool: work runs in worker processes; a worker that dies or a task that
hangs fails that task alone and the pool goes on with new workers; close stops them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from jobs.cpupool import CpuPool, WorkerError

ROOT = Path(__file__).resolve().parents[2]


def pid_of_worker(x: int) -> tuple[int, int]:
    return os.getpid(), x * x


def die(x: int) -> int:
    os._exit(3)  # a segfault or an OOM kill, as the pool sees it


def hang(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_work_runs_in_other_processes_and_both_workers_are_used() -> None:
    pool = CpuPool(2)

    async def main() -> list[tuple[int, int]]:
        return await asyncio.gather(*(pool.run(pid_of_worker, i) for i in range(8)))

    try:
        results = asyncio.run(main())
    finally:
        pool.close()
    assert [r[1] for r in results] == [i * i for i in range(8)]
    assert os.getpid() not in {r[0] for r in results}


def test_a_dying_worker_fails_its_task_and_the_pool_recovers() -> None:
    pool = CpuPool(2)

    async def main() -> None:
        with pytest.raises(WorkerError, match="died"):
            await pool.run(die, 1)
        assert (await pool.run(pid_of_worker, 3))[1] == 9

    try:
        asyncio.run(main())
    finally:
        pool.close()


def test_a_task_past_the_timeout_fails_and_its_worker_is_replaced() -> None:
    pool = CpuPool(1, timeout=0.5)

    async def main() -> None:
        with pytest.raises(WorkerError, match="longer than"):
            await pool.run(hang, 60.0)
        # the only worker was stuck: a new one answers
        assert (await pool.run(pid_of_worker, 4))[1] == 16

    try:
        asyncio.run(main())
    finally:
        pool.close()


def test_inline_and_thread_pools_run_the_same_work() -> None:
    for pool in (CpuPool(0), CpuPool(2, "thread")):
        try:
            pid, value = asyncio.run(pool.run(pid_of_worker, 5))
        finally:
            pool.close()
        assert (pid, value) == (os.getpid(), 25)
        assert pool.kind in ("inline", "thread")


def burn(seconds: float) -> int:
    end = time.process_time() + seconds
    n = 0
    while time.process_time() < end:
        n += 1
    return n


def test_close_reaps_the_workers_so_their_cpu_counts_in_this_process() -> None:
    """The workers fork from a forkserver: unless ``close`` stops and reaps it, their CPU time
    never reaches this process's children usage, and bench/throughput.py (``wait4``) or
    ``time vnnews crawl`` under-report the crawl's CPU."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    pool = CpuPool(2)

    async def main() -> list[int]:
        return await asyncio.gather(*(pool.run(burn, 0.3) for _ in range(2)))

    try:
        asyncio.run(main())
    finally:
        pool.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert spent >= 0.5, spent


def _processes(pool: CpuPool) -> set[int]:
    executor = pool._executor
    return {p.pid for p in (getattr(executor, "_processes", None) or {}).values()}


def test_started_workers_are_up_before_the_first_task_and_close_waits_for_them() -> None:
    """``start`` forks the workers in the background (the crawl discovers meanwhile); the
    first task then runs in one of them, and a pool closed while starting stops cleanly."""
    main = sys.modules["__main__"]
    pool = CpuPool(2)
    try:
        pool.start()
        deadline = time.monotonic() + 60
        while not _processes(pool) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the warm-up tasks are done: the first task finds a worker idle
        started = _processes(pool)
        # usually both; a thread starved past the warm-up hold starts one, the first pages the rest
        assert 1 <= len(started) <= 2
        assert asyncio.run(pool.run(pid_of_worker, 2))[0] in started
    finally:
        pool.close()
    assert sys.modules["__main__"] is main
    closing = CpuPool(2)
    closing.start()
    closing.close()  # at once: the start is waited for, then its workers stop
    assert closing._executor is None and sys.modules["__main__"] is main


def _run_pool_script(tmp_path: Path, setup: str) -> subprocess.CompletedProcess[str]:
    """A script run as its own process: ``setup`` makes ``pool``, then one task prints 49 and
    the pool closes."""
    script = tmp_path / "pool_script.py"
    script.write_text(
        "import asyncio, os, signal, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from multiprocessing import forkserver\n"
        "from jobs.cpupool import CpuPool\n"
        "from tests.jobs.test_cpupool import pid_of_worker\n"
        + setup
        + "print(asyncio.run(pool.run(pid_of_worker, 7))[1], flush=True)\n"
        "pool.close()\n",
        encoding="utf-8",
    )
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )


@pytest.mark.parametrize("ahead", [False, True], ids=["on-first-task", "started-ahead"])
def test_workers_do_not_run_the_main_script_again(tmp_path: Path, ahead: bool) -> None:
    """A script that runs the pool without the ``if __name__ == "__main__"`` guard (the
    ``vnnews`` console script imports the whole CLI the same way): the workers must not
    re-run it, which would start the work again in each (multiprocessing refuses) and cost
    each worker the script's imports."""
    done = _run_pool_script(
        tmp_path,
        "print('script ran', os.getpid(), flush=True)\n"
        "pool = CpuPool(2)\n"
        f"{'pool.start()' if ahead else 'pass'}\n",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.split("\n")
    assert [line for line in lines if line.startswith("script ran")] == [lines[0]]
    assert lines[1] == "49"


def test_a_ctrl_c_while_the_forkserver_starts_does_not_reach_it(tmp_path: Path) -> None:
    """Ctrl-C goes to the whole process group: in the first second of ``vnnews run`` it found
    the forkserver still importing, killed it with a traceback, and the daemon hung on its way
    out. The forkserver now ignores SIGINT from its first instruction."""
    done = _run_pool_script(
        tmp_path,
        "pool = CpuPool(2)\n"
        "pool.start()  # the forkserver is spawned now, its imports have just begun\n"
        "os.kill(forkserver._forkserver._forkserver_pid, signal.SIGINT)\n",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == "49\n"
    assert "Traceback" not in done.stderr and "KeyboardInterrupt" not in done.stderr
    assert "did not start ahead" not in done.stderr


def test_close_kills_workers_still_busy_after_its_timeout() -> None:
    """A daemon stopping must not hang holding its lock behind a worker that does not stop."""
    pool = CpuPool(1)
    pool.close_timeout = 1.0
    future = pool._pool().submit(hang, 60.0)  # the executor itself: no retry on a new pool
    deadline = time.monotonic() + 60
    while not future.running() and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = _processes(pool)
    assert workers
    start = time.monotonic()
    pool.close()
    assert time.monotonic() - start < 10
    assert isinstance(future.exception(timeout=10), BrokenProcessPool)
    for pid in workers:  # killed and reaped
        assert not Path(f"/proc/{pid}").exists()
