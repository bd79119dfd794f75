"""Issue 24 item 9: whatever values a config file holds, start-up either stops with one located line
per problem, or every value it accepted can be used: no traceback, no time that overflows, no header
that splits, no digest for a topic nothing defines (hypothesis)."""

from __future__ import annotations

import itertools
import json
import math
import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from fuzzing import bounded
from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import _ConfigModel
from pipeline.context import load_context
from pipeline.errors import ConfigError, all_errors

# The tables; `[[channels]]`, an array of them, is checked in test_config_channels.py.
SECTIONS = {name: field.annotation.model_fields for name, field in _ConfigModel.model_fields.items()
            if hasattr(field.annotation, "model_fields")}
HUGE = [1e300, 1e308, 1e9, 10**12, 2**63 - 1, math.inf, -math.inf, math.nan]
HOSTILE_TEXT = ["a@b.org\r\nBcc: c@d.org", "x\ny", "us-china-milcom", "", "not an address", "\x00"]


def candidates(field) -> st.SearchStrategy:
    """Values for one key: around its default (mostly fine), and the hostile ones."""
    default = field.get_default(call_default_factory=True)
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, int | float):
        near = st.sampled_from([default, default * 2, default / 2 if isinstance(default, float) else default + 1])
        return st.one_of(near, st.sampled_from([0, -1, *HUGE]), st.floats(0, 1e6), st.integers(0, 10**6))
    if isinstance(default, list):
        return st.one_of(st.just(default), st.just([]), st.lists(st.sampled_from([*default, *HOSTILE_TEXT,
                                                                                  "desk@example.org"]), max_size=3))
    return st.one_of(st.just(default), st.sampled_from(HOSTILE_TEXT), st.text(max_size=8))


RUNS_PER_FILE = 4
RUNS = itertools.count()


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    return json.dumps(value)  # a JSON string is a TOML basic string


@st.composite
def config_files(draw) -> str:
    tables: dict[str, dict[str, object]] = {"storage": {"path": "nw.db"}, "network": {"allow_private_addresses": True}}
    for _ in range(draw(st.integers(1, RUNS_PER_FILE))):
        section = draw(st.sampled_from(sorted(SECTIONS)))
        key = draw(st.sampled_from(sorted(SECTIONS[section])))
        if key in ("path", "dir", "url", "output_dir", "files", "allow_private_addresses"):
            continue  # where the store and sources are: other tests cover them, this one needs them here
        tables.setdefault(section, {})[key] = draw(candidates(SECTIONS[section][key]))
    return "".join(f"[{name}]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in keys.items()) + "\n"
                   for name, keys in tables.items())


def usable(ctx) -> None:
    """What an accepted configuration must allow: the service computes with these at once."""
    now, config = datetime.now(UTC), ctx.config
    for section in SECTIONS:
        for key, value in getattr(config, section).model_dump().items():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str):  # no line or paragraph breaks nor control characters
                    assert not any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in item), (section, key)
                if isinstance(item, float):
                    assert math.isfinite(item), (section, key)
    for minutes in (config.schedule.poll_interval_minutes, config.schedule.max_interval_minutes,
                    config.health.max_poll_age_minutes, config.health.max_queue_age_minutes,
                    config.health.max_failing_hours * 60):
        assert now + timedelta(minutes=minutes) > now
    assert now - timedelta(days=config.storage.keep_html_days) <= now
    for seconds in (config.email.timeout, config.network.timeout, config.network.min_host_delay):
        assert now + timedelta(seconds=seconds) >= now and seconds <= 3600
    assert config.schedule.min_interval_minutes <= config.schedule.max_interval_minutes
    assert config.topics.files
    assert set(config.digest.topics) <= {t.id for t in ctx.tagger.topics}
    assert all("@" in r for r in config.email.recipients)
    assert config.network.user_agent.isascii() and config.network.contact.isascii()


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("configvalues")


@bounded(150)
@given(config_files())
def test_a_config_loads_usable_or_stops_with_one_located_line_per_problem(root, text):
    directory = root / str(next(RUNS))
    (directory / "sources").mkdir(parents=True)
    file = directory / "config.toml"
    file.write_text(text, encoding="utf-8", errors="replace")
    try:
        ctx = load_context(file)
    except ConfigError as exc:
        for error in all_errors(exc):
            assert "\n" not in str(error) and str(error).startswith(str(directory)), str(error)
        return
    usable(ctx)
