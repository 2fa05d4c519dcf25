"""`reminders run` and `recover` on a terminal: a progress bar of the run's step, letters
printed of those decided, volumes and time left, read from the run's own records by a
thread polling the database twice a second; recover's, of the published entries checked,
told by recover itself. Quiet when stderr is not a terminal (cron, pipes, the console's
runs), as `import` is."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from reminders.adapters.db.run_progress import RunProgress, progress_of
from reminders.bootstrap import open_engine, worker_name

STEPS = {  # the step a run is at, after the one it completed
    "started": "deciding",
    "decided": "printing",
    "printed": "sealing",
    "sealed": "publishing",
    "published": "finished",
}
POLL_SECONDS = 0.5


def describe(progress: RunProgress) -> str:
    doing = STEPS.get(progress.step, progress.step)
    if progress.volume_printing is not None:
        of = f"{progress.volume_printing} of {progress.planned_volumes}"
        return f"Run {progress.run_id}: printing volume {of}"
    volumes = f", {progress.volumes} volume{'s' if progress.volumes != 1 else ''}"
    return f"Run {progress.run_id}: {doing}{volumes if progress.volumes else ''}"


@contextmanager
def watching(database_url: str, *, console: Console | None = None) -> Iterator[None]:
    """A progress bar of this process's run while the block runs (on a terminal only)."""
    console = console or Console(stderr=True)
    if not console.is_terminal:
        yield
        return
    stop = threading.Event()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("letters"),
        TimeRemainingColumn(),
    )
    engine = open_engine(database_url)
    worker = worker_name()
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("Starting the run", total=None)

        def poll() -> None:
            while not stop.wait(POLL_SECONDS):
                try:
                    with engine.connect() as connection:
                        progress = progress_of(connection, worker)
                except Exception:  # noqa: S112 - a bar must never fail the run
                    continue
                if progress is not None:
                    bar.update(
                        task,
                        description=describe(progress),
                        completed=progress.printed,
                        total=progress.letters or None,
                    )

        thread = threading.Thread(target=poll, name="run-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            engine.dispose()


@contextmanager
def recovering(
    *, console: Console | None = None
) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar of `reminders recover` on a terminal: per municipality, the published
    log's entries checked (and appended where the database lacks them) of all it holds, and
    the time left. Recover works in one transaction per log, which nothing else can read
    while it goes, so it tells its progress itself (None off a terminal: nothing shown)."""
    console = console or Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("entries"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def told(nis: str, checked: int, published: int) -> None:
            if nis not in tasks:
                tasks[nis] = bar.add_task(f"Recovering the log of {nis}", total=published)
            bar.update(tasks[nis], completed=checked, total=published)

        yield told
