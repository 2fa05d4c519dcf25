"""SIGTERM and SIGINT as a request to stop: the run in progress stops at its next safe point
(services/run_control.py) instead of dying wherever it is."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

log = logging.getLogger("reminders.signals")


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` while the block runs.

    Not from the signal handler itself: Event.set takes the lock that the main thread may be
    holding inside Event.wait when the signal lands, and would deadlock. The handler does
    nothing; the C-level handler writes the signal's number to a pipe (set_wakeup_fd) and a
    watcher thread sets the event.
    """
    reading, writing = os.pipe()
    os.set_blocking(writing, False)  # set_wakeup_fd requires it: a full pipe must not block
    names = {signal.SIGTERM: "SIGTERM", signal.SIGINT: "SIGINT"}

    def watch() -> None:
        while data := os.read(reading, 1):
            if data[0] in names:
                log.info("received %s", names[signal.Signals(data[0])])
                stop.set()

    watcher = threading.Thread(target=watch, name="stop-on-signals", daemon=True)
    previous = {number: signal.signal(number, lambda *_: None) for number in names}
    old_fd = signal.set_wakeup_fd(writing)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(old_fd)
        for number, handler in previous.items():
            signal.signal(number, handler)
        os.close(writing)  # the watcher reads the end of the pipe and returns
        watcher.join(timeout=5)
        with suppress(OSError):
            os.close(reading)
