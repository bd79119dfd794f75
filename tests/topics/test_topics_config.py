"""Every kind of bad rule in a topic file is a ConfigError naming the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import bundled_topic
from pipeline.errors import ConfigError
from pipeline.topics import load_topics

GOOD = """\
[topic]
id = "demo"

[thresholds]
mention = 0.3
strong = 0.7

[groups.ships]
en = ["ship*", "vessel"]

[groups.ports]
en = ["port", "harbour"]

[[rules]]
id = "ships-in-port"
all = ["ships", "ports"]
weight = 0.5

[[exclusions]]
id = "none"
when = ["ports"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "demo.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_topics([path])
    error = caught.value
    assert error.file == str(path)
    assert str(path) in str(error)
    return error


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_good_file_loads(tmp_path: Path) -> None:
    (topic,) = load_topics([write(tmp_path, GOOD)])
    assert topic.id == "demo" and topic.rules[0].all == ("ships", "ports")
    assert topic.languages == ("en",)  # not declared: the languages its groups list terms under


@pytest.mark.parametrize(
    ("old", "new", "key", "marker"),
    [
        ('en = ["port", "harbour"]', 'en = ["port"]\nterms = ["dock"]', "groups.ports.terms", "terms ="),  # unknown key
        ("weight = 0.5", 'weight = "high"', "rules.0.weight", 'weight = "high"'),  # wrong type
        ("weight = 0.5", "weight = 1.5", "rules.0.weight", "weight = 1.5"),  # out of range
        ("strong = 0.7", "strong = 1.7", "thresholds.strong", "strong = 1.7"),  # threshold out of range
        ("strong = 0.7", "strong = 0.2", "thresholds.strong", "strong = 0.2"),  # strong below mention
        ('all = ["ships", "ports"]', 'all = ["ships", "harbours"]', "rules.0.all", "all = "),  # missing group
        ('when = ["ports"]', 'when = ["piers"]', "exclusions.0.when", "when = "),  # missing group
        ('en = ["ship*", "vessel"]', 'en = ["ship*"]\nimplies = ["boats"]', "groups.ships.implies", "implies"),
        ('en = ["ship*", "vessel"]', 'patterns = ["ves(sel"]', "groups.ships.patterns", "patterns"),  # bad regex
        ('en = ["ship*", "vessel"]', 'en = ["sh*ip"]', "groups.ships.en", 'en = ["sh*ip"]'),  # '*' mid-word
        ('en = ["ship*", "vessel"]', 'en = "ship"', "groups.ships.en", 'en = "ship"'),  # not a list
        ('id = "none"', 'id = "none"\nscope = "paragraph"', "exclusions.0.scope", "scope"),
        ('all = ["ships", "ports"]', 'all = ["ships", "ports"]\nwithin = -1', "rules.0.within", "within"),
        ('id = "demo"', 'id = "demo"\nlanguages = ["en", "xx"]', "topic.languages", "languages"),  # unknown code
    ],
)
def test_bad_rule_is_located(tmp_path: Path, old: str, new: str, key: str, marker: str) -> None:
    text = GOOD.replace(old, new)
    assert text != GOOD
    error = load_error(tmp_path, text)
    assert error.key == key
    assert error.line == line_of(text, marker)
    assert f":{error.line}: {key}:" in str(error)


def test_second_rule_error_points_at_the_second_rule(tmp_path: Path) -> None:
    text = GOOD.replace("[[exclusions]]", '[[rules]]\nid = "second"\nall = ["ships"]\nweight = 2\n\n[[exclusions]]')
    error = load_error(tmp_path, text)
    assert error.key == "rules.1.weight"
    assert error.line == line_of(text, "weight = 2")


def test_toml_syntax_error_has_a_line(tmp_path: Path) -> None:
    text = GOOD.replace("mention = 0.3", "mention = = 0.3")
    error = load_error(tmp_path, text)
    assert error.line == line_of(text, "mention = = 0.3")
    assert "TOML" in error.problem


def test_duplicate_topic_ids_are_rejected(tmp_path: Path) -> None:
    first = write(tmp_path, GOOD)
    second = tmp_path / "other.toml"
    second.write_text(GOOD, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_topics([first, second])
    assert caught.value.key == "topic.id"


def test_shipped_topic_file_is_valid() -> None:
    (topic,) = load_topics([bundled_topic("us-china-milcomm")])
    assert topic.id == "us-china-milcomm"
