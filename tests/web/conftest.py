"""Fixtures for the reading room: a server on the session's demo store, private copies to change."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_helpers import serving


@pytest.fixture(scope="session")
def served_demo(demo_output, tmp_path_factory) -> Iterator[str]:
    """One server for the session, for tests that only read; tests that write use `demo_copy`.

    It serves a copy of the demo: opening an item page marks it read, and the demo's own store
    stays as the demo left it for every `demo_copy` made after."""
    target = tmp_path_factory.mktemp("served") / "demo"
    shutil.copytree(demo_output, target)
    with serving(target / "config.toml") as base:
        yield base


@pytest.fixture
def demo_copy(demo_output, tmp_path) -> Path:
    """A private copy of the demo's folder (config paths are relative): tests may change its store."""
    target = tmp_path / "demo"
    shutil.copytree(demo_output, target)
    return target
