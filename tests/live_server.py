"""A real HTTP server for an ASGI app in the tests: uvicorn on 127.0.0.1 in a thread (the
browser tests, and the console's tests that need requests truly at the same time)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

SERVER_START_TIMEOUT_S = 30
SERVER_STOP_TIMEOUT_S = 30


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """Serve the ASGI app with uvicorn on 127.0.0.1 (a free port) in a thread; yields its base
    URL (``http://127.0.0.1:PORT``) once it accepts connections, and stops it afterwards."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))  # bound here: no race for the port; uvicorn listens on it
    host, port = listener.getsockname()
    config = uvicorn.Config(
        app,
        log_config=None,  # leave logging alone (pytest captures uvicorn's records)
        access_log=False,
        ws="none",  # no websockets library (nor its deprecation warnings) needed
        timeout_graceful_shutdown=SERVER_STOP_TIMEOUT_S // 2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name=f"uvicorn:{port}", daemon=True
    )
    with listener:  # closed by uvicorn's shutdown; closed here too if it never started
        thread.start()
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("uvicorn stopped while starting (its log says why)")
            if time.monotonic() > deadline:
                server.should_exit = True
                thread.join(SERVER_STOP_TIMEOUT_S)
                raise RuntimeError(f"uvicorn did not start in {SERVER_START_TIMEOUT_S} s")
            time.sleep(0.01)
        try:
            yield f"http://{host}:{port}"
        finally:
            server.should_exit = True
            thread.join(SERVER_STOP_TIMEOUT_S)
            if thread.is_alive():
                raise RuntimeError(f"uvicorn did not stop in {SERVER_STOP_TIMEOUT_S} s")
