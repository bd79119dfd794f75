"""The issue's acceptance: a demo store served by `newswatch serve`, read as a reader would."""

from __future__ import annotations

import re

from web_helpers import http_get

SEED = "The Ministry of Defense of China is ready to cooperate with the USA"
PAGES = ("/", "/days/", "/search?q=hotline", "/sources")


def item_links(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'href="(/items/\d+)"', html)))


def assert_no_inline_script(html: str) -> None:
    # The one script is our static file, loaded by src: no script element with a body.
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.IGNORECASE | re.DOTALL)
    assert scripts == [""] and '<script src="/static/keys.js" defer>' in html
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE), "an inline event handler"
    assert "javascript:" not in html.lower()
    assert " style=" not in html  # inline styles: the CSP forbids them, the stylesheet has them


def test_home_shows_todays_seed_story(served_demo):
    response = http_get(served_demo + "/")
    assert response.status_code == 200
    assert SEED in response.text
    assert 'href="/topics/us-china-milcomm/feed.xml"' in response.text
    assert "US–China military communication" in response.text  # the topic's name, not its id


def test_search_finds_the_hotline_story_and_its_item_page_has_the_evidence(served_demo):
    page = http_get(served_demo + "/search", params={"q": "hotline"})
    assert page.status_code == 200
    assert "Shipping insurers raise South China Sea premiums" in page.text
    links = item_links(page.text)
    assert links
    item = http_get(served_demo + links[0])
    assert item.status_code == 200
    assert "<mark>" in item.text  # the evidence sentence, marked in the text
    assert "restored hotline" in item.text


def test_every_item_linked_from_home_answers_with_its_evidence(served_demo):
    home = http_get(served_demo + "/").text
    links = item_links(home)
    assert len(links) >= 6
    for link in links:
        item = http_get(served_demo + link)
        assert item.status_code == 200, link
        assert "<mark>" in item.text, link  # the evidence, marked in the text
        assert "Why tagged" in item.text and "Rule by rule" in item.text


def test_seed_item_page_marks_its_evidence(served_demo):
    home = http_get(served_demo + "/").text
    seed_link = re.search(r'href="(/items/\d+)">(?:\d+\. )?' + re.escape(SEED), home)
    assert seed_link, "the seed story links to its item"
    item = http_get(served_demo + seed_link.group(1)).text
    assert "<mark>" in item and "Dnipro Daily" in item
    assert "restore communication and communication lines at all levels" in item


def test_sources_lists_dnipro_daily(served_demo):
    page = http_get(served_demo + "/sources")
    assert page.status_code == 200
    assert "Dnipro Daily" in page.text


def test_no_page_carries_an_inline_script(served_demo):
    home = http_get(served_demo + "/").text
    for path in (*PAGES, *item_links(home)):
        response = http_get(served_demo + path)
        assert response.status_code == 200, path
        # Our own static script only (the keyboard shortcuts): no inline script, no other origin.
        assert "script-src 'self';" in response.headers["content-security-policy"]
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert_no_inline_script(response.text)


def test_the_rolling_feed_is_atom(served_demo):
    feed = http_get(served_demo + "/topics/us-china-milcomm/feed.xml")
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("application/atom+xml")
    assert SEED in feed.text
    # Titled after its topic, not after the first day of its window (issue 20).
    assert "<title>US–China military communication</title>" in feed.text


def test_an_item_page_lists_the_other_outlets_version_of_its_story(served_demo):
    search = http_get(served_demo + "/search", params={"q": "theater commander calls"}).text
    harbor = re.search(r'href="(/items/\d+)">US, China to resume theater commander calls', search)
    assert harbor
    item = http_get(served_demo + harbor.group(1)).text
    elsewhere = item.split("The same story elsewhere", 1)[1].split("</section>", 1)[0]
    assert "Dnipro Daily: US and China agree to resume talks between theater commanders" in elsewhere


def test_lists_mark_each_evidence_sentence_once_with_at_most_the_two_parties_named(served_demo):
    """Issue 20, must-have 4: one quiet span per evidence sentence, no term-by-term <mark>, and at
    most two names in bold inside it (the day lists share build.Parties with the digests)."""
    days = re.findall(r'href="/days/(\d{4}-\d{2}-\d{2})"', http_get(served_demo + "/days/").text)
    pages = [http_get(served_demo + f"/days/{day}").text for day in days]
    spans = [s for page in pages for s in re.findall(r'<span class="sentence evidence">(.*?)</span>', page, re.S)]
    assert spans, "the demo's days show evidence sentences"
    named = 0
    for span in spans:
        assert "<mark>" not in span
        bold = re.findall(r"<strong>(.*?)</strong>", span)
        assert len(bold) <= 2, span
        named += bool(bold)
    assert named, "some evidence names a party"
