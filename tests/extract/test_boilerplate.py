"""Learning a source's recurring lines."""

from __future__ import annotations

from pipeline.extract.boilerplate import fingerprint, learn_boilerplate

PROMO = "Subscribe to our morning briefing for the day's main stories"


def _page(n: int, extra: str = "") -> str:
    return f"Story {n} opens with its own first line about event {n}.\n\n{PROMO}\n\nFollow us on X\n{extra}"


def test_lines_recurring_on_most_pages_are_learned() -> None:
    known = learn_boilerplate([_page(n) for n in range(5)])

    assert fingerprint(PROMO) in known
    assert fingerprint("Follow us on X") in known
    assert not any(key.startswith("story") for key in known)


def test_fingerprint_ignores_case_punctuation_and_spacing() -> None:
    assert fingerprint("Follow   us on X!") == fingerprint("follow us, on x")
    assert fingerprint("Menu") == ""  # one word alone is too ambiguous to learn
    assert fingerprint("本市今天开通了一条新的公交线路") != ""  # unspaced scripts are judged by length


def test_too_few_pages_learn_nothing() -> None:
    assert learn_boilerplate([_page(1), _page(2)]) == frozenset()
    assert learn_boilerplate([]) == frozenset()


def test_min_share_is_respected() -> None:
    texts = [_page(n, extra="Rare line seen on two pages only" if n < 2 else "") for n in range(6)]

    assert fingerprint("Rare line seen on two pages only") not in learn_boilerplate(texts, min_share=0.5, min_pages=2)
    assert fingerprint("Rare line seen on two pages only") in learn_boilerplate(texts, min_share=0.3, min_pages=2)


def test_a_line_repeated_within_one_page_counts_once() -> None:
    texts = ["Same line repeated here\nSame line repeated here\nSame line repeated here", "a b", "c d"]

    assert learn_boilerplate(texts, min_share=0.3, min_pages=2) == frozenset()


def test_learned_lines_are_matched_by_fingerprint() -> None:
    known = learn_boilerplate([_page(n) for n in range(3)])

    assert fingerprint(PROMO.upper()) in known  # case and punctuation do not matter
    assert fingerprint("Story 1 opens with its own first line about event 1.") not in known
