"""A bounded pool for the crawler's CPU work (``jobs.prepare``), off the event loop.

Extraction, compression and hashing are pure Python and C under the GIL: threads overlap them
with fetching but use one core; processes use every core (``kind="process"``, the default;
measured in bench/throughput.py). The pool is bounded (``workers`` processes, one task each at a
time; callers bound how many they queue), starts on first use or ahead of it (``start``: in the
background, while the crawl discovers), and never stalls its caller:

- a task running longer than ``timeout`` fails with ``WorkerError``, and the pool's processes
  are killed and replaced (a stuck parse cannot be cancelled any other way);
- a worker that dies (segfault, OOM kill) breaks the pool: it is replaced and the task tried
  once more in the new one, so a page that kills its worker twice fails alone;
- workers and their forkserver never see SIGINT (the daemon decides when to stop, on
  SIGINT/SIGTERM, and calls ``close``) and exit by themselves when their parent dies
  (``kill -9``);
- workers do not run the parent's main script again: they run module-level functions of
  importable modules only (``jobs.prepare``), so ``_bare_main`` hides ``__main__`` while they
  start. multiprocessing would otherwise re-run it in each (spawn and forkserver do): the
  ``vnnews`` script imports the whole CLI there (~0.3 s of CPU a worker), and a user's script
  that runs a crawl without the ``if __name__ == "__main__"`` guard would start it again.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing import forkserver
from typing import Literal, ParamSpec, TypeVar

from scraper.errors import VnnewsError

log = logging.getLogger("vnnews.pool")

P = ParamSpec("P")
T = TypeVar("T")
PoolKind = Literal["process", "thread", "inline"]
#: a page whose extraction takes longer than this is given up (check_html bounds a parse well
#: below it: only a bug or a starved machine gets here)
DEFAULT_TIMEOUT = 120.0
#: a task still running when the pool closes gets this long (a parse is bounded well below it)
DEFAULT_CLOSE_TIMEOUT = 30.0
#: seconds ``close`` waits for killed workers to be reaped
_REAP_WAIT = 10.0
#: seconds a warm-up task holds its worker (``CpuPool.start``): longer than starting the next
_WARM_HOLD = 0.05


class WorkerError(VnnewsError):
    """A page's CPU work did not finish: its worker died twice or ran past the timeout."""


def _worker_init(owner: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        # orphaned (the daemon was killed): exit, do not linger. The worker's parent is the
        # forkserver, which itself lives as long as any worker does: watch the daemon itself
        while not _gone(owner):
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="vnnews-owner-watch", daemon=True).start()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # killed but not yet reaped by its own parent
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b") ", 1)[1][:1] == b"Z"
    except (OSError, IndexError):
        return False


class CpuPool:
    def __init__(
        self, workers: int, kind: PoolKind = "process", *, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.kind: PoolKind = kind if workers > 0 else "inline"
        self.workers = max(1, workers)
        self.timeout = timeout
        #: seconds ``close`` waits for running tasks before it kills their workers
        self.close_timeout = DEFAULT_CLOSE_TIMEOUT
        self._executor: Executor | None = None
        self._lock = threading.Lock()  # the executor is made by the first of two threads
        self._starter: threading.Thread | None = None
        #: set by ``close``: no executor is made after it (a late warm-up would leak one)
        self._closed = False

    def start(self) -> None:
        """Start the worker processes now, in the background, rather than on the first page:
        the forkserver imports the extractor and forks (~0.25 s) while the caller goes on with
        discovery. A no-op for thread and inline pools."""
        if self.kind != "process" or self._starter is not None:
            return
        try:
            _start_forkserver()
        except Exception as exc:  # the warm-up, or the first page, tries again
            log.warning("CPU pool: forkserver did not start ahead: %s", exc)
        self._starter = threading.Thread(target=self._warm, name="vnnews-pool-start", daemon=True)
        self._starter.start()

    def _warm(self) -> None:
        try:
            pool = self._pool()
            for _ in range(self.workers):
                # a submit starts a worker only when none is idle: each warm-up task keeps
                # its worker busy a moment, so the next submit starts another (a starved
                # thread may still start fewer: the first pages start the rest)
                with _bare_main():
                    pool.submit(time.sleep, _WARM_HOLD)
        except _Closed:
            return  # closed while starting: nothing to warn about
        except Exception as exc:  # the first page starts (or fails to start) them again
            log.warning("CPU pool: workers did not start ahead: %s", exc)

    def _pool(self) -> Executor:
        with self._lock:
            if self._executor is not None:
                return self._executor
            if self._closed:
                raise _Closed("the CPU pool is closed")
            if self.kind == "thread":
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="vnnews-cpu")
            else:
                # forkserver: workers fork from a clean process that imported jobs.prepare once,
                # not from this one (its threads, sockets and database connections)
                ctx = multiprocessing.get_context("forkserver")
                _start_forkserver()
                self._executor = ProcessPoolExecutor(
                    self.workers, mp_context=ctx, initializer=_worker_init, initargs=(os.getpid(),)
                )
                _forkserver_users(+1)
            return self._executor

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args)`` in the pool (inline: right here). ``fn`` must be a module-level
        function and its arguments picklable."""
        if self.kind == "inline":
            return fn(*args, **kwargs)
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            pool = self._pool()
            try:
                with _bare_main():  # a submit may start a worker
                    future = loop.run_in_executor(pool, _call, fn, args, kwargs)
                return await asyncio.wait_for(future, self.timeout)
            except BrokenProcessPool:
                self._replace(pool, "a worker process died")
                if attempt == 2:
                    raise WorkerError("the worker process died on this page (twice)") from None
            except TimeoutError:
                self._replace(pool, f"a task ran past {self.timeout:g} s")
                raise WorkerError(f"extraction took longer than {self.timeout:g} s") from None
        raise AssertionError("unreachable")

    def _replace(self, broken: Executor, why: str) -> None:
        with self._lock:
            if self._executor is not broken:
                return  # another task replaced it already
            self._executor = None
        log.warning("CPU pool: %s; starting new workers", why)
        _kill(broken)

    def close(self) -> None:
        """Stop the workers: queued tasks are cancelled, running ones finish (a parse is
        bounded), then the processes exit. Worker processes still running ``close_timeout``
        seconds after the call are killed: a daemon on its way out must not hang holding its
        lock. (A thread pool's threads cannot be killed: it waits for them.)"""
        deadline = time.monotonic() + self.close_timeout
        with self._lock:
            self._closed = True
        if self._starter is not None:
            self._starter.join(max(0.0, deadline - time.monotonic()))
            self._starter = None
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is None:
            return
        if not isinstance(executor, ProcessPoolExecutor):
            executor.shutdown(wait=True, cancel_futures=True)
            return
        closer = threading.Thread(
            target=executor.shutdown,
            kwargs={"wait": True, "cancel_futures": True},
            name="vnnews-pool-close",
            daemon=True,
        )
        closer.start()
        closer.join(max(0.0, deadline - time.monotonic()))
        if closer.is_alive():
            log.warning("CPU pool: workers still busy %g s after close: killed", self.close_timeout)
            _kill_processes(executor)
            closer.join(_REAP_WAIT)  # killed processes are reaped at once
        _forkserver_users(-1)


class _Closed(WorkerError):
    """A task or a warm-up after ``CpuPool.close``."""


_users = 0
_users_lock = threading.Lock()


def _forkserver_users(change: int, *, stop_last: bool = True) -> None:
    """Count the process pools open in this process; when the last one closes, stop the
    forkserver and reap it. Its workers' CPU time then counts in this process's (``wait4``,
    ``time``: bench/throughput.py), and no orphaned forkserver outlives the command."""
    global _users
    with _users_lock:
        _users += change
        if _users > 0 or not stop_last:
            return
    stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
    if stop is not None:  # private (CPython 3.8-3.13); without it the forkserver exits on its own
        stop()


def _start_forkserver() -> None:
    """Start the forkserver (once per process) importing ``jobs.prepare``, with SIGINT ignored
    from its first instruction: Ctrl-C goes to the whole process group, and the forkserver
    ignores it only once its imports are done, a worker only once ``_worker_init`` has run. A
    Ctrl-C in the first second of ``vnnews run`` killed one or the other with a traceback.

    An ignored signal stays ignored through fork and exec, and Python then leaves it so: SIGINT
    is ignored here while the forkserver is spawned, and blocked in this thread, so a Ctrl-C
    meanwhile waits for the handler restored after it rather than being lost (the CLI has no
    other thread yet to take it). Only the main thread can set a handler: ``CpuPool.start``
    runs this there; elsewhere the forkserver starts plainly."""
    forkserver.set_forkserver_preload(["jobs.prepare"])
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous is None:
        with _bare_main():
            forkserver.ensure_running()
        return
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with _bare_main():
            forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


_main_lock = threading.Lock()


@contextmanager
def _bare_main() -> Iterator[None]:
    """``__main__`` as a module with no file and no spec, for as long as a worker starts:
    multiprocessing then has no main script to re-run in it (``spawn.get_preparation_data``
    reads the main module's ``__spec__`` and ``__file__``). One thread at a time: two swaps
    overlapping would leave the bare module in place."""
    with _main_lock:
        modules = sys.modules
        main = modules.get("__main__")
        modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if main is not None:
                modules["__main__"] = main


def _call(fn: Callable[..., T], args: tuple[object, ...], kwargs: dict[str, object]) -> T:
    return fn(*args, **kwargs)


def _kill(executor: Executor) -> None:
    if isinstance(executor, ProcessPoolExecutor):
        _kill_processes(executor)
        _forkserver_users(-1, stop_last=False)  # a new pool takes its place
    executor.shutdown(wait=False, cancel_futures=True)


def _kill_processes(executor: ProcessPoolExecutor) -> None:
    # a stuck task cannot be cancelled: its process is killed (private, but the only handle)
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        process.kill()
