"""SIGTERM and SIGINT as a request to stop: the run in progress stops at its next safe point
(services/run_control.py) instead of dying wherever it is."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An Event set by SIGTERM or SIGINT while the block runs; the previous handlers come
    back afterwards. A second signal while stopping falls through to them (a hard stop)."""
    stop = threading.Event()
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}

    def requested(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            received = signal.Signals(signum)
            signal.signal(received, previous[received])
            signal.raise_signal(received)
            return
        stop.set()

    for signum in previous:
        signal.signal(signum, requested)
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
