"""Shared fixtures: real files, real SQLite, real HTTP on 127.0.0.1."""

from __future__ import annotations

import logging

import pytest

from pipeline.demo.site import DemoSite


@pytest.fixture(autouse=True)
def _restore_logging():
    """Commands run in-process set up logging for a user's terminal; the next test gets it back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def demo_site():
    with DemoSite() as site:
        yield site


@pytest.fixture(scope="session")
def demo_output(tmp_path_factory):
    """The demo run once for the session: its database, config and digest, for tests to read."""
    from pipeline.cli import main

    output = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--output", str(output)]) == 0
    return output


# PostgreSQL: `pg_server` (one per session) and `pg_url` (an empty database per test).
from pg_helpers import pg_server, pg_url  # noqa: E402, F401
