"""Run a computation under a time and memory budget.

SymPy steps (differentiation, simplification, exact evaluation) can take
unbounded time on some inputs, and a few (huge exact powers) run inside C code
where no Python-level timeout can interrupt them. So on POSIX the work runs in
a forked child process with a memory limit, and the parent waits at most
`seconds`; when the budget runs out the child is killed and the caller is told,
so it can fall back (to finite differences, to floats). Elsewhere the work
runs in a daemon thread, which bounds the wait but not the work.

The child returns its result through a pipe, pickled; only our own child ever
writes to that pipe.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from .i18n import _

DEFAULT_MEMORY = 2 << 30  # bytes of address space for the child


@dataclass(frozen=True)
class Outcome:
    status: str  # "ok", "timeout", "error"
    value: Any = None
    error: str = ""
    seconds: float = 0.0


def run_with_budget(
    fn: Callable[..., Any], args: tuple = (), seconds: float = 5.0, memory: int = DEFAULT_MEMORY,
    meanwhile: Callable[[], None] | None = None,
) -> Outcome:
    """fn(*args) in a child process; Outcome("timeout") after `seconds`.

    `meanwhile()` runs in this process while the child computes (on another
    core), before waiting for it; its time counts against the budget."""
    start = time.monotonic()
    if seconds <= 0:
        return Outcome("timeout", seconds=0.0)
    if not hasattr(os, "fork"):
        if meanwhile is not None:
            meanwhile()
        return _run_in_thread(fn, args, seconds, start)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, write, leave without running any cleanup
        try:
            os.close(read_fd)
            _limit_memory(memory)
            try:
                payload: tuple = ("ok", fn(*args), "")
            except BaseException as exc:  # noqa: BLE001 - reported to the parent
                payload = ("error", None, f"{type(exc).__name__}: {exc}"[:500])
            data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(data)
            while view:
                written = os.write(write_fd, view)
                view = view[written:]
        finally:
            os._exit(0)
    os.close(write_fd)
    if meanwhile is not None:
        meanwhile()
    chunks: list[bytes] = []
    timed_out = False
    try:
        while True:
            remaining = start + seconds - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            ready, _writable, _errors = select.select([read_fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        if timed_out:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os.waitpid(pid, 0)
    elapsed = time.monotonic() - start
    if timed_out:
        return Outcome("timeout", seconds=elapsed)
    if not chunks:
        return Outcome("error", error=_("the check process ended without an answer"), seconds=elapsed)
    status, value, error = pickle.loads(b"".join(chunks))
    return Outcome(status, value, error, elapsed)


def _limit_memory(memory: int) -> None:
    """Allow the child `memory` bytes of address space beyond what it has."""
    try:
        import resource

        with open("/proc/self/statm") as f:
            in_use = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = in_use + memory
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass


def _run_in_thread(fn: Callable[..., Any], args: tuple, seconds: float, start: float) -> Outcome:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001
            box["error"] = f"{type(exc).__name__}: {exc}"[:500]

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    elapsed = time.monotonic() - start
    if thread.is_alive():
        return Outcome("timeout", seconds=elapsed)
    if "error" in box:
        return Outcome("error", error=box["error"], seconds=elapsed)
    return Outcome("ok", box.get("value"), seconds=elapsed)
