"""What each command imports: the commands people type all day start without the heavy libraries
the service needs (issue 23). The time itself is measured in bench/, not here."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

# Libraries a command that neither polls, extracts, serves nor clusters must not load: each costs
# tens of milliseconds to import, SciPy (through datasketch) most of a second.
HEAVY = {"scipy", "datasketch", "trafilatura", "selenium", "psycopg", "uvicorn", "starlette", "apscheduler",
         "soupsieve", "bs4", "courlan", "aiohttp", "feedparser", "charset_normalizer", "tqdm", "jinja2"}

PROBE = """
import contextlib, io, json, sys
import pipeline.cli
with contextlib.redirect_stdout(io.StringIO()):
    try:
        code = pipeline.cli.main(sys.argv[1:])
    except SystemExit as exc:  # --help
        code = exc.code
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def imported(*argv: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] in (0, 1), done.stderr  # 1: `health` found the demo unhealthy (a new day)
    return set(result["modules"])


@pytest.fixture(scope="module")
def config(demo_output, tmp_path_factory):
    copy = tmp_path_factory.mktemp("startup") / "demo"
    shutil.copytree(demo_output, copy)  # `digest` writes its files
    return str(copy / "config.toml")


@pytest.mark.parametrize("command", [["status"], ["health"], ["search", "hotline"],
                                     ["explain", "1"], ["digest"]])
def test_everyday_commands_load_no_heavy_library(config, command):
    loaded = imported(*command, "--config", config)
    assert "pipeline" in loaded and "sqlite_utils" in loaded
    assert loaded & HEAVY == set()
    if command != ["digest"]:  # the digest clusters its stories with numpy; the others never need it
        assert "numpy" not in loaded  # sqlite-utils would import it only to map numpy's scalar types
    if command[0] not in ("explain", "digest"):  # they match terms: explain to say why, digest to highlight
        assert "ahocorasick" not in loaded  # status reads the topic files' languages, not their matcher


def test_the_store_hides_numpy_from_sqlite_utils_whatever_was_imported_first():
    probe = ("import sys, numpy, pipeline.store, sqlite_utils.db as db; "
             "print(db.np is None, sys.modules['numpy'] is numpy)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "True"]  # hidden while sqlite-utils loaded, then given back


def test_help_loads_neither_the_store_nor_the_configuration():
    loaded = imported("--help")
    assert loaded & (HEAVY | {"sqlite_utils", "pydantic", "numpy", "httpx"}) == set()
