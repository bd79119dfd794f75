"""How long to wait before trying again: one backoff rule for feeds, pages and digest deliveries.

It lives above the stages because the service (feeds, entries) and delivery (digests) both retry,
and neither should import the other to share it.
"""

from __future__ import annotations

import random

DAY = 86_400.0


def backoff_seconds(failures: int, base: float, cap: float = DAY) -> float:
    """Exponential backoff with jitter in [ceiling/2, ceiling]; never gives up, but waits at most `cap`."""
    ceiling = min(cap, base * 2 ** max(0, min(failures, 64) - 1))
    return random.uniform(ceiling / 2, ceiling)
