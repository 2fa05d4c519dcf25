"""Real-browser tests: Playwright drives Debian's Chromium, headless, against an ASGI app that
``live_server`` serves with uvicorn on 127.0.0.1 in a thread.

No browser is downloaded: Chromium comes from Debian's packages (``/usr/bin/chromium``). When it
is missing the session installs it with apt-get (root and apt needed). When that cannot be done
the tests skip with the reason, except in CI, where they fail with apt's last lines.
Every test in this folder is marked ``browser`` (``-m "not browser"`` leaves them out).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import NoReturn

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright
from starlette.types import ASGIApp

from tests.conftest import unavailable

HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
APT_TIMEOUT_S = 900  # chromium and its libraries are about 100 MB to fetch and unpack
SERVER_START_TIMEOUT_S = 30
SERVER_STOP_TIMEOUT_S = 30


@pytest.hookimpl(tryfirst=True)  # before -m selects on the markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder drives the browser: mark it ``browser``."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


def _apt_get(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - apt-get from PATH, fixed arguments
        ["apt-get", "-o", "DPkg::Lock::Timeout=120", *args],  # noqa: S607
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=APT_TIMEOUT_S,
        check=False,
    )


def _failed(result: subprocess.CompletedProcess[str]) -> NoReturn:
    """Skip (or fail in CI) on apt-get's error line, with its last lines for CI."""
    output = (result.stdout + result.stderr).strip().splitlines() or ["(no output)"]
    errors = [line for line in output if line.startswith("E:")] or output
    command = " ".join(result.args[3:])
    unavailable(
        f"apt-get {command} failed: {errors[-1]}",
        f"apt-get {command} exited {result.returncode}:\n" + "\n".join(output[-20:]),
    )


def _install_chromium() -> None:
    """``apt-get install chromium``; when that fails, ``apt-get update`` and once more (a clean
    machine has no package lists, an old one stale ones). Skips or, in CI, fails if it cannot."""
    if shutil.which("apt-get") is None:
        unavailable(f"{CHROMIUM} is missing and there is no apt-get to install it")
    if os.geteuid() != 0:
        unavailable(f"{CHROMIUM} is missing; installing it needs root: apt-get install chromium")
    install = ("install", "-y", "--no-install-recommends", "chromium")
    try:
        result = _apt_get(*install)
        if result.returncode != 0:
            update = _apt_get("update")
            if update.returncode != 0:
                _failed(update)
            result = _apt_get(*install)
    except subprocess.TimeoutExpired as err:
        unavailable(f"apt-get did not finish in {APT_TIMEOUT_S} s: {' '.join(err.cmd)}")
    if result.returncode != 0:
        _failed(result)
    if not CHROMIUM.exists():
        unavailable(f"apt-get installed chromium but there is no {CHROMIUM}")


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium, installed from Debian's packages if it is not there yet."""
    if not CHROMIUM.exists():
        _install_chromium()
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Browser]:
    """Chromium, headless, for the whole session."""
    with pytest.MonkeyPatch.context() as patch:
        # Nothing may fetch a browser build: we drive Debian's.
        patch.setenv("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        with sync_playwright() as playwright:
            # Playwright adds --no-sandbox (Chromium refuses root otherwise) unless
            # chromium_sandbox is true, and --disable-dev-shm-usage (small /dev/shm in containers)
            browser = playwright.chromium.launch(
                executable_path=chromium_path, headless=True, chromium_sandbox=False
            )
            try:
                yield browser
            finally:
                browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page in a context of its own (no cookies or storage from other tests)."""
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


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


@pytest.fixture
def live_server() -> Iterator[Callable[[ASGIApp], str]]:
    """``live_server(app)`` serves any ASGI app (see ``serving``) and returns its base URL;
    every server started so is stopped when the test ends."""
    with ExitStack() as servers:
        yield lambda app: servers.enter_context(serving(app))
