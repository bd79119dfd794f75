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
