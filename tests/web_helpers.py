"""The reading room under test: `newswatch serve` as a real process on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from waiting import COMMAND_DEADLINE, REQUEST_DEADLINE

# A deadline, not a wait: serving goes on the moment the server answers, however slowly a shared
# machine starts it.
STARTUP_DEADLINE = COMMAND_DEADLINE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, **kwargs) -> httpx.Response:
    """GET from a server of ours, waiting up to REQUEST_DEADLINE for the answer, not httpx's fixed 5 s."""
    kwargs.setdefault("timeout", REQUEST_DEADLINE)
    return httpx.get(url, **kwargs)


def http_post(url: str, **kwargs) -> httpx.Response:
    kwargs.setdefault("timeout", REQUEST_DEADLINE)
    return httpx.post(url, **kwargs)


def http_client(**kwargs) -> httpx.Client:
    kwargs.setdefault("timeout", REQUEST_DEADLINE)
    return httpx.Client(**kwargs)


@contextmanager
def serving(config: Path, *args: str, env: dict[str, str] | None = None, host: str = "127.0.0.1",
            auth: tuple[str, str] | None = None) -> Iterator[str]:
    """`newswatch serve --config CONFIG` in its own process; yields its base URL once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "serve", "--config", str(config), "--port", str(port), *args],
        env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://{host}:{port}"
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE
        while True:
            if process.poll() is not None:
                raise AssertionError(f"serve exited with {process.returncode}: {process.stdout.read()}")
            try:
                httpx.get(base + "/static/style.css", timeout=2, auth=auth)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise AssertionError("serve did not answer within the deadline") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_MISSING = (
    "browser tests need Debian's Chromium and its driver: "
    "`apt-get update && apt-get install -y chromium chromium-driver` (as root)"
)


@contextmanager
def chromium(user_data_dir: Path, width: int = 1280, height: int = 900):
    """Headless Chromium under Selenium, with nothing that reaches beyond the machine.

    Both paths are given, so Selenium Manager never looks for (or downloads) a browser of its own.
    """
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(CHROMIUM_MISSING)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
                 "--disable-dev-shm-usage", f"--user-data-dir={user_data_dir}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver, url: str) -> None:
    """`driver.get(url)` for a reading-room page, then a wait until the page is there. On a loaded
    machine Chromium once answered `get` while the page source was still empty: a check such as
    "this story is not on the page" would then have passed on nothing."""
    driver.get(url)
    wait_for(driver, lambda d: d.execute_script(
        "return document.readyState === 'complete' && document.querySelector('main') !== null"))


def wait_for(driver, condition, timeout: float = 30):
    """Poll `condition` until it holds; a form post reloads the page under it, so an element found
    on the page before is looked for again. Chromium reports an element of the page being replaced
    either as stale or, between two of its calls, as a node that "does not belong to the document"."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def checked(d):
        try:
            return condition(d)
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc):
                return False
            raise

    ignored = (StaleElementReferenceException, NoSuchElementException)
    return WebDriverWait(driver, timeout, ignored_exceptions=ignored).until(checked)
