"""Rendering a run's volumes in worker processes on this machine.

The run's own process stays the single writer: it decides, builds the volume jobs in order,
and stages, records and seals each volume in order. Only the rendering (templates, layout,
PDF, manifests: pure CPU) goes to the workers, one volume per task, and comes back as bytes.
Workers are started with the *spawn* method: the run's process holds database connections,
locks and a signal-watching thread that a forked child must not inherit.

A worker must never outlive its run: on Linux it asks the kernel to kill it when the run's
process dies (``PR_SET_PDEATHSIG``), and it ignores SIGINT and SIGTERM, which a terminal or
systemd sends to the whole process group: the run's process decides when to stop (at a safe
point) and shuts the pool down.
"""

from __future__ import annotations

import ctypes
import gc
import importlib.util
import os
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context

from reminders.adapters.printing.text import LetterTemplates
from reminders.adapters.printing.volume_render import VolumeRenderer
from reminders.config import PrintOptions
from reminders.config.letters import TemplateFolders
from reminders.domain.volume_job import RenderedVolume, VolumeJob
from reminders.errors import RemindersError

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class VolumeRenderError(RemindersError):
    """A worker could not render a volume; carries the original message and exit status
    across the process boundary (the original error type may not survive pickling)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def __reduce__(self) -> tuple[type[VolumeRenderError], tuple[str, int]]:
        return (VolumeRenderError, (self.message, self.exit_code))


def available_cores() -> int:
    """The cores this process may run on (a container or `taskset` may allow fewer)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class InlinePool:
    """Renders in the run's own process, when a run is too small to be worth a worker."""

    volumes_ahead = 0  # each volume is recorded as soon as it is rendered

    def __init__(self, renderer: VolumeRenderer) -> None:
        self.renderer = renderer

    def submit(self, job: VolumeJob) -> Future[RenderedVolume]:
        future: Future[RenderedVolume] = Future()
        try:
            future.set_result(self.renderer.render(job))
        except RemindersError as err:
            future.set_exception(err)
        return future


class ProcessPool:
    """Worker processes, each with the installation's templates and print options."""

    def __init__(self, folders: TemplateFolders, options: PrintOptions, workers: int) -> None:
        self.workers = workers
        self.volumes_ahead = 2 * workers  # each worker has its next volume waiting
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context("spawn"),
            initializer=_start_worker,
            initargs=(folders, options, os.getpid()),
        )

    def submit(self, job: VolumeJob) -> Future[RenderedVolume]:
        return self._executor.submit(_render, job)

    def close(self) -> None:
        """Stop the workers; volumes not started yet are dropped (the run resumes them)."""
        self._executor.shutdown(wait=True, cancel_futures=True)


# Below this many letters a run renders in its own process: starting the workers costs more
# than they save. Measured with `python -m bench run --workers 1,2` (SQLite, 2 cores, quiet),
# start to sealed log, in the run's own process / with two workers: 314 letters 1.9 / 2.9 s,
# 1,154 letters 2.7 / 3.1 s, 2,305 letters 3.2 / 3.6 s, 4,668 letters 4.5 / 4.8 s. Set well
# below where the workers start to pay here, for machines where they pay sooner (more cores).
INLINE_BELOW_LETTERS = 1_000


class LocalRendering:
    """Opens a run's render pool: up to ``workers`` processes (one per volume at most),
    or the run's own process for a run of one volume or of few letters."""

    def __init__(self, templates: LetterTemplates, options: PrintOptions, workers: int) -> None:
        self.templates, self.options = templates, options
        self.workers = workers or available_cores()

    @contextmanager
    def open(self, volumes: int, letters: int) -> Iterator[InlinePool | ProcessPool]:
        workers = min(self.workers, volumes)
        if workers <= 1 or letters < INLINE_BELOW_LETTERS:
            yield InlinePool(VolumeRenderer(self.templates, self.options))
            return
        with _workers_skip_the_main_module():
            pool = ProcessPool(self.templates.folders, self.options, workers)
            try:
                yield pool
            finally:
                pool.close()


@contextmanager
def _workers_skip_the_main_module() -> Iterator[None]:
    """While a pool's workers start (the executor starts them as volumes are submitted): a
    spawned child first runs the parent's main module again, unless that module is a
    package's ``__main__`` (as under ``python -m reminders``). The `reminders` console script
    is a file whose import loads the whole command line, which a worker never uses: about
    0.55 s of CPU per worker (1.27-1.42 s instead of 0.72-0.79 s to start one, on a 2-core
    AMD EPYC). Meanwhile the main module carries the spec of ``reminders.__main__``, as
    ``python -m reminders`` gives it; a main module that has a spec of its own keeps it."""
    main = sys.modules["__main__"]
    if getattr(main, "__spec__", None) is not None:
        yield
        return
    main.__spec__ = importlib.util.find_spec("reminders.__main__")
    try:
        yield
    finally:
        main.__spec__ = None


_renderer: VolumeRenderer | None = None  # the worker process's own


def _start_worker(folders: TemplateFolders, options: PrintOptions, parent: int) -> None:
    _die_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    global _renderer
    _renderer = VolumeRenderer(LetterTemplates(folders), options)
    # What is set up now lives as long as the worker: out of the collector's way, it is not
    # scanned again on every collection while volumes render (about a tenth of the CPU).
    gc.freeze()


def _render(job: VolumeJob) -> RenderedVolume:
    assert _renderer is not None  # noqa: S101 - set by the pool's initializer
    try:
        return _renderer.render(job)
    except RemindersError as err:
        raise VolumeRenderError(err.message, err.exit_code) from None


def _die_with(parent: int) -> None:
    """Have the kernel kill this worker when its run's process dies (Linux); a worker whose
    parent is already gone exits at once."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
