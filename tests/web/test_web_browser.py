"""The reading room in a real browser: headless Chromium driven by Selenium against `newswatch serve`.

Skipped, with the install command, where Debian's chromium and chromium-driver are missing.
"""

from __future__ import annotations

import pytest
from web_helpers import chromium, open_page, serving, wait_for

SEED = "The Ministry of Defense of China is ready to cooperate with the USA"


@pytest.fixture
def browser(tmp_path):
    with chromium(tmp_path / "chromium-profile") as driver:
        yield driver


@pytest.fixture
def site(demo_copy):
    with serving(demo_copy / "config.toml") as base:
        yield base


def test_pages_render_with_their_stylesheet(browser, site):
    from selenium.webdriver.common.by import By

    for path, heading in (("/", "US–China military communication"), ("/days/", "days with items"),
                          ("/sources", "Sources"), ("/search?q=hotline", "Search")):
        open_page(browser, site + path)
        assert heading in browser.find_element(By.TAG_NAME, "h1").text, path
        # The stylesheet was loaded and applied (the CSP allows 'self'): header has its bottom rule.
        border = browser.find_element(By.CSS_SELECTOR, "header.top").value_of_css_property("border-bottom-style")
        assert border == "solid", path
    open_page(browser, site + "/")
    assert SEED in browser.page_source


def test_search_from_the_header_finds_an_item_and_opens_it(browser, site):
    from selenium.webdriver.common.by import By

    open_page(browser, site + "/")
    box = browser.find_element(By.CSS_SELECTOR, "form.quick input[name=q]")
    box.send_keys("hotline")
    browser.find_element(By.CSS_SELECTOR, "form.quick button").click()
    # The home page lists the story too: wait for the results page before taking its link.
    wait_for(browser, lambda d: "/search?q=hotline" in d.current_url)
    link = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "ol.results").find_element(
        By.PARTIAL_LINK_TEXT, "Shipping insurers"))
    link.click()
    wait_for(browser, lambda d: "/items/" in d.current_url)
    marked = browser.find_elements(By.CSS_SELECTOR, ".text mark")
    assert any("hotline" in m.text for m in marked)


def test_not_relevant_removes_the_story_from_today(browser, site):
    from selenium.webdriver.common.by import By

    open_page(browser, site + "/")
    before = len(browser.find_elements(By.CSS_SELECTOR, "section.digest article.story"))
    browser.find_element(By.PARTIAL_LINK_TEXT, SEED).click()
    wait_for(browser, lambda d: "/items/" in d.current_url)
    browser.find_element(By.CSS_SELECTOR, "button[value=not_relevant]").click()
    wait_for(browser, lambda d: "you said not relevant" in d.page_source)
    browser.find_element(By.LINK_TEXT, "Today").click()
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "section.digest"))
    assert SEED not in browser.page_source
    # the rest of the day is still there: one story fewer, not an empty page
    assert len(browser.find_elements(By.CSS_SELECTOR, "section.digest article.story")) == before - 1 > 0


INJECT = """
const done = arguments[arguments.length - 1];
window.__ran = false;
document.addEventListener('securitypolicyviolation', e => { window.__blocked = e.violatedDirective; });
const s = document.createElement('script');
s.textContent = 'window.__ran = true;';
document.body.appendChild(s);
setTimeout(() => done({ran: window.__ran, blocked: window.__blocked || null}), 200);
"""


def test_the_csp_blocks_an_injected_script(browser, site):
    # Where no policy applies, the same injection runs: the check below can fail.
    browser.get("data:text/html,<p>no policy here</p>")
    assert browser.execute_async_script(INJECT)["ran"] is True
    for path in ("/", "/items/1", "/search?q=China"):
        open_page(browser, site + path)
        result = browser.execute_async_script(INJECT)
        assert result["ran"] is False, path
        assert result["blocked"] and result["blocked"].startswith("script-src"), (path, result)


def test_pages_fit_a_phone(browser, site):
    browser.set_window_size(375, 800)
    for path in ("/", "/days/", "/sources", "/search?q=China", "/items/1"):
        open_page(browser, site + path)
        inner = browser.execute_script("return window.innerWidth")
        assert inner <= 400
        assert browser.execute_script("return document.documentElement.scrollWidth") <= inner, path


def test_without_chromium_the_browser_tests_skip_saying_how_to_install_it(tmp_path, monkeypatch):
    import web_helpers

    monkeypatch.setattr(web_helpers, "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(pytest.skip.Exception) as skipped, web_helpers.chromium(tmp_path / "profile"):
        pass
    assert "apt-get install -y chromium chromium-driver" in str(skipped.value)
