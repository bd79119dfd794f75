"""Validating a source's CSS selectors without importing soupsieve, for the plain ones only."""

from __future__ import annotations

import pytest
import soupsieve
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import ConfigError
from pipeline.extract.rules import PLAIN_SELECTOR, parse_rules


@settings(max_examples=300, deadline=None)
@given(st.from_regex(PLAIN_SELECTOR, fullmatch=True))
def test_every_selector_the_shortcut_accepts_soupsieve_compiles(selector):
    soupsieve.compile(selector)


@pytest.mark.parametrize("selector", [
    "div", ".entry-content", "#main", "article > p", "div.story p + p", "h1 ~ p", "figure, .read-also",
    "a[href]", 'a[rel="nofollow"]', "input[type=text]", "[data-role|=promo]", "* > .x",
])
def test_common_selectors_take_the_shortcut(selector):
    assert PLAIN_SELECTOR.fullmatch(selector)


@pytest.mark.parametrize("selector", ["p:not(.ad)", "div:nth-child(2)", "svg|rect", r"#\31 23", "p:is(h1, h2)"])
def test_the_rest_is_left_to_soupsieve_and_still_accepted(selector):
    assert not PLAIN_SELECTOR.fullmatch(selector)
    assert parse_rules({"drop": [selector]}, "outlet.toml").drop == (selector,)


@pytest.mark.parametrize("selector", ["div[", "> p", "p,", ".", "p:nope", "p::before", "a[href=]", "#1x", "p >> q"])
def test_bad_selectors_are_still_refused(selector):
    assert not PLAIN_SELECTOR.fullmatch(selector)
    with pytest.raises(ConfigError, match="expected a CSS selector"):
        parse_rules({"body": [selector]}, "outlet.toml")
