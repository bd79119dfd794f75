"""Tests wait for observed state, never for a fixed time: a slow machine only makes them slower."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


# How long a test waits for a state by default: a deadline, not a wait. A service's first cycle took over
# 120 s with five suites and two CPU hogs sharing two cores.
STATE_DEADLINE = 300.0


def wait_for(check: Callable[[], T], timeout: float = STATE_DEADLINE, interval: float = 0.1) -> T:
    """`check()`'s first truthy value; AssertionError if none comes within the (generous) deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(interval)
    raise AssertionError(f"not reached within {timeout:.0f} s: {getattr(check, '__name__', check)}")


# How long a `newswatch` command run by a test may take to finish, or a service to exit once told to
# stop: a deadline, not a wait (the test goes on the moment it exits). A fresh interpreter importing
# the service and compiling the topic rules took over 60 s with four suites and a CPU hog on two cores.
COMMAND_DEADLINE = 300.0

# How long a test waits for a page from a server of ours: httpx's default 5 s is a fixed time, and the
# reading room's first page on PostgreSQL took longer with four suites and a CPU hog on two cores.
REQUEST_DEADLINE = 120.0
