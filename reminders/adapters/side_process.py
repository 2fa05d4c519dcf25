"""A process beside this one for work that needs nothing but its arguments (decoding a
published log while this process writes what it decodes into the database)."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager


@contextmanager
def side_process() -> Iterator[Executor]:
    """An executor of one forked process: the child has every module imported already and
    starts in milliseconds, and ``python -m reminders`` could not be imported again as a
    spawned child's main module. Where fork does not exist, a thread (same results, one core).
    Work still queued when the block ends is dropped."""
    if "fork" in multiprocessing.get_all_start_methods():
        executor: Executor = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_die_with_parent,
            initargs=(os.getpid(),),
        )
    else:  # pragma: no cover - not on Linux
        executor = ThreadPoolExecutor(1)
    try:
        yield executor
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent: int) -> None:
    """The child is killed when this process dies, however it dies: a SIGKILLed parent would
    otherwise leave it waiting for work forever (holding the parent's output pipes open)."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
