from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.feeds.sources import load_source, load_sources

ROOT = Path(__file__).resolve().parents[2]


def test_starter_set_covers_at_least_twelve_outlets_with_feeds():
    sources = load_sources(ROOT / "sources")
    assert len(sources) >= 12
    assert all(s.feeds and s.feeds[0].url.startswith(("http://", "https://")) for s in sources)
    names = {s.name for s in sources}
    assert {"U.S. Department of Defense", "Xinhua", "The Diplomat", "Ukrinform"} <= names


def test_interval_is_minutes_and_rules_are_parsed(tmp_path):
    file = tmp_path / "a.toml"
    file.write_text('name = "A"\nhomepage = "https://a.example/"\nlanguage = "en"\nmin_delay = 2\n\n'
                    '[[feeds]]\nurl = "https://a.example/rss"\ninterval = 15\n\n'
                    '[extract]\nbody = [".story"]\ndate_order = "DMY"\n')
    source = load_source(file)
    assert source.feeds[0].interval == 15 * 60
    assert source.min_delay == 2.0
    assert source.rules.body == (".story",)
    assert source.rules.date_order == "DMY"


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ('name = "A"\nlanguage = "english"\n[[feeds]]\nurl = "https://a/"\n', 2, "language"),
        ('name = "A"\n[[feeds]]\nurl = "ftp://a/"\n', 3, "feeds.0.url"),
        ('name = "A"\n[[feeds]]\nurl = "https://a/"\ninterval = -5\n', 4, "feeds.0.interval"),
        ('name = "A"\n[[feeds]]\nurl = "https://a/"\ninterval = inf\n', 4, "feeds.0.interval"),
        ('name = "A"\n[[feeds]]\nurl = "https://a/"\ninterval = nan\n', 4, "feeds.0.interval"),
        ('name = "A"\n[[feeds]]\nurl = "https://a/"\ninterval = true\n', 4, "feeds.0.interval"),
        ('name = "A"\nmin_delay = nan\n[[feeds]]\nurl = "https://a/"\n', 2, "min_delay"),
        ('name = "A"\nhomepag = "https://a/"\n[[feeds]]\nurl = "https://a/"\n', 2, "homepag"),
        ('name = "A"\n', None, "feeds"),
        ('name = "A"\n[[feeds]]\nurl = "https://a/"\n[extract]\ndrop_text = ["(unclosed"]\n', 5, "extract.drop_text"),
    ],
)
def test_bad_source_files_name_file_line_and_key(tmp_path, text, line, key):
    file = tmp_path / "bad.toml"
    file.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_source(file)
    assert caught.value.file == str(file)
    assert caught.value.key == key
    if line:
        assert caught.value.line == line


def test_duplicate_source_names_are_refused(tmp_path):
    for name in ("a", "b"):
        (tmp_path / f"{name}.toml").write_text('name = "Same"\n[[feeds]]\nurl = "https://x/"\n')
    with pytest.raises(ConfigError, match="already used"):
        load_sources(tmp_path)
