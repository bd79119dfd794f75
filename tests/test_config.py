from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_config_is_valid_and_resolves_paths_against_its_own_folder():
    config = load_config(ROOT / "config.toml")
    assert config.db_path == ROOT / "data" / "newswatch.db"
    assert config.sources_dir == ROOT / "sources"
    assert config.network.allow_private_addresses is False
    assert all(path.is_file() for path in config.topic_files)


def test_relative_paths_are_relative_to_the_config_file_not_the_cwd(tmp_path, monkeypatch):
    (tmp_path / "conf").mkdir()
    file = tmp_path / "conf" / "c.toml"
    file.write_text('[storage]\npath = "db/x.db"\n[digest]\noutput_dir = "../out"\n')
    monkeypatch.chdir("/")
    config = load_config(file)
    assert config.db_path == tmp_path / "conf" / "db" / "x.db"
    assert config.digest_dir == tmp_path / "out"


@pytest.mark.parametrize(
    ("text", "line", "key", "expected"),
    [
        ('[digest]\ntime = "7am"\n', 2, "digest.time", "24-hour"),
        ('[storage]\npath = "x.db"\n\n[digest]\ntimezone = "Mars/Olympus"\n', 5, "digest.timezone", "IANA"),
        ("[network]\nallow_private_addresses = 1\n", 2, "network.allow_private_addresses", "boolean"),
        ("[network]\nmax_connections = 0\n", 2, "network.max_connections", "greater than or equal to 1"),
        ("[schedule]\npoll_interval_minutes = inf\n", 2, "schedule.poll_interval_minutes", "finite number"),
        ("[network]\ntimeout = nan\n", 2, "network.timeout", "finite number"),
        ("[digest]\nformats = [\"pdf\"]\n", 2, "digest.formats", "unknown format 'pdf'"),
        ("[schedule]\npoll_interval = 5\n", 2, "schedule.poll_interval", "unknown key"),
        ("[storage]\npath = \"a\"\n[bogus]\nx = 1\n", 3, "bogus", "unknown key"),
    ],
)
def test_bad_values_name_file_line_key_and_expectation(tmp_path, text, line, key, expected):
    file = tmp_path / "config.toml"
    file.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    message = str(caught.value)
    assert message.startswith(f"{file}:{line}: {key}: ")
    assert expected in message


def test_toml_syntax_error_names_the_line(tmp_path):
    file = tmp_path / "config.toml"
    file.write_text('[storage]\npath = "x.db"\n[digest\n')
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    assert caught.value.line == 3
    assert "invalid TOML" in str(caught.value)


@pytest.mark.parametrize("command", ["status", "poll", "run", "digest", "sources"])
def test_cli_reports_config_errors_in_one_line_with_exit_code_2(tmp_path, capsys, command):
    file = tmp_path / "config.toml"
    file.write_text("[digest]\nweekly = \"sometimes\"\n")
    argv = [command, "--config", str(file)] if command != "sources" else ["sources", "list", "--config", str(file)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"{file}:2: digest.weekly:" in err


def test_missing_config_file_exits_2(tmp_path, capsys):
    assert main(["status", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "config file not found" in capsys.readouterr().err


def _start(tmp_path, capsys, source: str | None, config_body: str = "", sources_dir: str = "sources") -> str:
    """`newswatch poll` on a config (and one source file): exit 2 and the one line it printed."""
    from conftest import write_config

    if source is not None:
        (tmp_path / "sources").mkdir(exist_ok=True)
        (tmp_path / "sources" / "outlet.toml").write_text(source, encoding="utf-8")
    config = write_config(tmp_path, config_body, sources_dir=sources_dir)
    capsys.readouterr()
    assert main(["poll", "--quiet", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("newswatch: configuration error: ")
    return err.strip().removeprefix("newswatch: configuration error: ")


@pytest.mark.parametrize(("text", "line", "key", "reason"), [
    ('name = "A"\n[[feeds]]\nurl = "https://a.example:99999/feed"\n', 3, "feeds.0.url",
     "got 'https://a.example:99999/feed': port 99999 is out of range 1-65535"),
    ('name = "A"\n[[feeds]]\nurl = "https://a exa.example/feed"\n', 3, "feeds.0.url",
     "got 'https://a exa.example/feed': host 'a exa.example' contains a space"),
    ('name = "A"\n[[feeds]]\nurl = "https:///feed"\n', 3, "feeds.0.url", "got 'https:///feed': no host"),
    ('name = "A"\nhomepage = "http://a.example:abc/"\n[[feeds]]\nurl = "https://a.example/feed"\n', 2, "homepage",
     "got 'http://a.example:abc/': port 'abc' is not a number"),
    ('name = "A"\n[[feeds]]\nurl = 7\n', 3, "feeds.0.url", "got int 7"),
])
def test_a_source_url_nothing_can_fetch_stops_start_up(tmp_path, capsys, text, line, key, reason):
    message = _start(tmp_path, capsys, text)
    assert message == f"{tmp_path / 'sources' / 'outlet.toml'}:{line}: {key}: expected an http(s) URL, {reason}"


def test_a_bad_css_selector_is_one_line(tmp_path, capsys):
    message = _start(tmp_path, capsys, 'name = "A"\n[[feeds]]\nurl = "https://a.example/f"\n\n[extract]\n'
                                       'body = ["div["]\n')
    assert message == (f"{tmp_path / 'sources' / 'outlet.toml'}:6: extract.body: expected a CSS selector, "
                       "got 'div[': Malformed attribute selector at position 3")


def test_a_toml_syntax_error_in_a_source_file_names_its_line(tmp_path, capsys):
    message = _start(tmp_path, capsys, 'name = "A"\n\n[[feeds]]\nurl = "https://a.example/f\n')
    assert message.startswith(f"{tmp_path / 'sources' / 'outlet.toml'}:4: invalid TOML: ")
    assert "(at line" not in message  # the position is said once, in the prefix


def test_a_missing_sources_dir_names_the_config_line_that_points_there(tmp_path, capsys):
    message = _start(tmp_path, capsys, None, sources_dir="nowhere")
    assert message == (f"{tmp_path / 'config.toml'}:5: sources.dir: expected a directory of source files; "
                       f"{tmp_path / 'nowhere'} does not exist")


def test_a_missing_topic_file_names_the_config_line_that_points_there(tmp_path, capsys):
    message = _start(tmp_path, capsys, 'name = "A"\n[[feeds]]\nurl = "https://a.example/f"\n',
                     '[topics]\nfiles = ["us-china-milcomm", "topics/mine.toml"]\n')
    assert message == (f"{tmp_path / 'config.toml'}:13: topics.files: expected a topic file or a bundled topic's "
                       f"name; 'topics/mine.toml' is neither ({tmp_path / 'topics' / 'mine.toml'} does not exist)")


def test_an_error_in_the_second_feed_names_the_second_feeds_line(tmp_path, capsys):
    message = _start(tmp_path, capsys, 'name = "A"\n\n[[feeds]]\nurl = "https://a.example/f"\n\n[[feeds]]\n'
                                       'interval = 5\nurl = "https://a.example:0/g"\n')
    assert message.startswith(f"{tmp_path / 'sources' / 'outlet.toml'}:8: feeds.1.url: expected an http(s) URL")
    message = _start(tmp_path, capsys, 'name = "A"\n[[feeds]]\nurl = "https://a.example/f"\n[[feeds]]\nurle = 1\n')
    assert message.startswith(f"{tmp_path / 'sources' / 'outlet.toml'}:5: feeds.1.urle: unknown key")
