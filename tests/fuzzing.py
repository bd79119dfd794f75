"""Settings shared by the property-based tests (hypothesis).

By default each test runs a bounded, derandomized set of examples: the suite gives the same verdict
on every machine and every run, and a few seconds per test. `NEWSWATCH_FUZZ=N` explores N fresh
random examples per test instead, keeping failures in `.hypothesis/` to replay them.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXPLORE = int(os.environ.get("NEWSWATCH_FUZZ", "0") or 0)


def bounded(examples: int) -> settings:
    return settings(
        max_examples=EXPLORE or examples,
        deadline=None,  # a cold machine is slow; speed belongs in bench/, not in a test's verdict
        derandomize=not EXPLORE,
        database=settings.default.database if EXPLORE else None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
