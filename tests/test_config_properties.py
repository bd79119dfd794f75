"""Config loading over mutated files (hypothesis): whatever a config or source file says, start-up
either loads or stops with one ConfigError line that names the file (and the line, when it has one)."""

from __future__ import annotations

import itertools

import pytest
from fuzzing import bounded
from hypothesis import given
from hypothesis import strategies as st

from pipeline.context import load_context
from pipeline.errors import ConfigError

CONFIG = """[storage]
path = "nw.db"
keep_html_days = 30

[sources]
dir = "sources"

[network]
allow_private_addresses = true
min_host_delay = 0.0
timeout = 10.0

[schedule]
poll_interval_minutes = 30
process_batch = 200

[digest]
time = "07:00"
timezone = "Europe/Kyiv"
formats = ["markdown", "json"]
topics = ["us-china-milcomm"]

[email]
enabled = false
port = 587
recipients = []

[topics]
files = ["us-china-milcomm"]
"""

SOURCE = """name = "Example Daily"
homepage = "https://example.com/"
language = "en"
min_delay = 2.0

[[feeds]]
url = "https://example.com/feed.xml"
interval = 30

[[feeds]]
url = "https://example.com/world/rss"

[extract]
body = [".story", "article > div.body"]
drop = ["figure", ".read-also"]
drop_text = ["^READ ALSO:"]
date_order = "DMY"
"""

# What TOML and our keys are made of, and what breaks them.
TOKENS = ["[", "]", "[[", "]]", "=", '"', "'", '"""', "\n", "#", ",", "{", "}", ".", "\\", " ", "0", "-1", "99999",
          "1e999", "true", "nan", "inf", "1979-05-27T07:32:00Z", "07:32:00", '"\\u00e9"', "[[feeds]]", "[extract]",
          'url = "http://x.example:99999/"', 'url = "http://[::1/"', 'url = "https://a b/"', "homepage = 5",
          'body = ["div["]', 'drop_text = ["("]', "name = ", "feeds = 3", "[sources]\ndir = \"nowhere\"\n",
          '[topics]\nfiles = ["missing.toml"]\n', "interval = 0", "\x00", "\ud800", "é", "[storage]"]
edit = st.tuples(st.integers(0, 2_000), st.integers(0, 12), st.one_of(st.sampled_from(TOKENS), st.text(max_size=6)))
RUNS = itertools.count()


def mutate(text: str, edits: list[tuple[int, int, str]]) -> str:
    for at, cut, insert in edits:
        at %= len(text) + 1
        text = text[:at] + insert + text[at + cut:]
    return text


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("configfuzz")


def attempt(root, config_text: str, source_text: str):
    directory = root / str(next(RUNS))
    (directory / "sources").mkdir(parents=True)
    config, source = directory / "config.toml", directory / "sources" / "example.toml"
    # a lone surrogate cannot be written as UTF-8: a file on disk would hold "?" there
    config.write_bytes(config_text.encode("utf-8", "replace"))
    source.write_bytes(source_text.encode("utf-8", "replace"))
    try:
        return load_context(config)
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message and message.startswith(exc.file)
        assert exc.file.startswith(str(directory)), message  # the config file, a source file or a path it names
        if exc.line is not None:
            assert message.startswith(f"{exc.file}:{exc.line}: ")
            with open(exc.file, "rb") as shown:
                assert 1 <= exc.line <= shown.read().count(b"\n") + 1, message
    return None


@bounded(200)
@given(st.lists(edit, min_size=1, max_size=5))
def test_a_mutated_config_file_loads_or_stops_with_one_located_line(root, edits):
    attempt(root, mutate(CONFIG, edits), SOURCE)


@bounded(200)
@given(st.lists(edit, min_size=1, max_size=5))
def test_a_mutated_source_file_loads_or_stops_with_one_located_line(root, edits):
    attempt(root, CONFIG, mutate(SOURCE, edits))


def test_the_unmutated_files_load(root):
    assert attempt(root, CONFIG, SOURCE).sources["Example Daily"].rules.date_order == "DMY"
