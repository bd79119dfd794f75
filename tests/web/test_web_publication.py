"""Issue 18 in the reading room: dates are publication dates, and search's From/To filter by them."""

from __future__ import annotations

import re

from web_helpers import http_get

PDR = "Pentagon Summit: US and Chinese Officials Convene for Talks on Bilateral Relations"
DNIPRO_2023 = "The Ministry of Defense of China is ready to cooperate with the USA"


def test_search_from_to_finds_the_demos_2024_stories_by_publication(served_demo):
    year = http_get(served_demo + "/search", params={"from": "2024-01-01", "to": "2024-12-31"}).text
    assert PDR in year and "US, China to resume theater commander calls" in year
    assert DNIPRO_2023 not in year  # published December 2023
    # Each hit shows when it was published, not when the demo fetched it.
    assert "published 10 Jan 2024 14:30 UTC" in year
    december = http_get(served_demo + "/search", params={"from": "2023-12-01", "to": "2023-12-01"}).text
    assert DNIPRO_2023 in december and PDR not in december


def test_a_day_page_holds_what_was_published_that_day_and_the_item_page_says_where_the_date_is_from(
        served_demo):
    day = http_get(served_demo + "/days/2024-01-10").text
    assert PDR in day and "Published on Wednesday 10 January 2024" in day
    listed = re.findall(r'href="/days/(\d{4}-\d{2}-\d{2})"', http_get(served_demo + "/days/").text)
    assert "2024-01-10" in listed and "2023-12-01" in listed
    item = re.search(r'href="(/items/\d+)">' + re.escape(PDR), day).group(1)
    page = http_get(served_demo + item).text
    assert "published <a href=\"/days/2024-01-10\">10 Jan 2024 14:30 UTC</a>" in page
    assert "(date from the feed)" in page and "in the digest of" in page
