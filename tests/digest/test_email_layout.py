"""The HTML email as a phone and a desktop mail client show it: rendered in headless Chromium.

No horizontal scrolling at either width; the screenshots are kept in pytest's temporary folder
(and in $NEWSWATCH_SCREENSHOTS when set) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from web_helpers import chromium

from pipeline.digest.build import Digest
from pipeline.digest.html import render_html

WIDTHS = {"phone": 375, "desktop": 1280}


def email_file(demo_output: Path) -> Path:
    [html] = sorted((demo_output / "digest" / "us-china-milcomm").glob("*/digest.html"))
    return html


@pytest.mark.parametrize("device", WIDTHS)
def test_the_email_fits_phone_and_desktop_widths(device, demo_output, tmp_path):
    width = WIDTHS[device]
    page = email_file(demo_output)
    with chromium(tmp_path / "profile", width=width, height=900) as browser:
        browser.set_window_size(width, 900)
        browser.get(page.as_uri())
        inner = browser.execute_script("return window.innerWidth")
        assert abs(inner - width) <= 20, inner  # the window is the size we asked for
        scroll = browser.execute_script("return document.documentElement.scrollWidth")
        assert scroll <= inner, f"{device}: the page is {scroll}px wide in a {inner}px window"
        # Every story's text wraps inside the window: no word or link pushes it wider.
        widest = browser.execute_script(
            "return Math.max(...[...document.querySelectorAll('p, h1, h3, li')]"
            ".map(e => e.getBoundingClientRect().right))")
        assert widest <= inner
        assert "US–China military communication" in browser.title
        shot = tmp_path / f"email-{device}.png"
        browser.set_window_size(width, max(900, browser.execute_script("return document.body.scrollHeight")))
        assert browser.save_screenshot(str(shot))
        if os.environ.get("NEWSWATCH_SCREENSHOTS"):
            shutil.copy(shot, Path(os.environ["NEWSWATCH_SCREENSHOTS"]) / shot.name)


def test_a_long_unbroken_link_text_still_fits_a_phone(demo_output, tmp_path):
    from dataclasses import replace

    from pipeline.digest.build import FailingSource

    page = email_file(demo_output)
    digest_html = page.read_text(encoding="utf-8")
    assert "<body" in digest_html
    # A failing feed with a 200-character URL goes in the footer, where nothing can break it but CSS.
    base = _digest_from_demo(demo_output)
    long_url = "https://feeds.example/" + "x" * 200
    html = render_html(replace(base, failing=(FailingSource("Long", long_url, "failing", "timeout"),)))
    target = tmp_path / "long.html"
    target.write_text(html, encoding="utf-8")
    with chromium(tmp_path / "profile", width=375, height=900) as browser:
        browser.set_window_size(375, 900)
        browser.get(target.as_uri())
        inner = browser.execute_script("return window.innerWidth")
        assert browser.execute_script("return document.documentElement.scrollWidth") <= inner


def _digest_from_demo(demo_output: Path) -> Digest:
    from datetime import datetime

    from pipeline.config import load_config
    from pipeline.digest.build import build_digest
    from pipeline.store import Store

    config = load_config(demo_output / "config.toml")
    with Store(config.db_path) as store:
        return build_digest(store, config, "us-china-milcomm", datetime.now(config.tz).date())
