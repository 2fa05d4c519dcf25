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
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import NoReturn

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from starlette.types import ASGIApp

from tests.conftest import unavailable
from tests.live_server import serving

HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
APT_TIMEOUT_S = 900  # chromium and its libraries are about 100 MB to fetch and unpack


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


@pytest.fixture
def live_server() -> Iterator[Callable[[ASGIApp], str]]:
    """``live_server(app)`` serves any ASGI app (see ``serving``) and returns its base URL;
    every server started so is stopped when the test ends."""
    with ExitStack() as servers:
        yield lambda app: servers.enter_context(serving(app))
