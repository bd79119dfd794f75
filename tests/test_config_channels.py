"""`[[channels]]` and `[alerts]` are validated at start-up, with file, line and key in every message;
a channel's Apprise URL comes from its environment variable, never from the file."""

from __future__ import annotations

import pytest

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.errors import ConfigError, all_errors

CHANNEL = '[[channels]]\nname = "desk"\nurl_env = "NW_DESK_URL"\n'


def write(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text('[storage]\npath = "x.db"\n' + text, encoding="utf-8")
    return path


def problems(path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(e) for e in all_errors(caught.value)]


def test_a_channel_with_the_issues_keys_and_its_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("NW_DESK_URL", "json://127.0.0.1:9/hook")
    monkeypatch.setenv("NW_PHONE_URL", "ntfy://ntfy.example/desk")
    config = load_config(write(tmp_path, CHANNEL + '[[channels]]\nname = "phone"\nurl_env = "NW_PHONE_URL"\n'
                               'receives = ["alerts"]\ntopics = ["us-china-milcomm"]\nalert_level = "mention"\n'))
    desk, phone = config.channels
    assert (desk.receives, desk.topics, desk.alert_level) == (["alerts", "digest"], [], "strong")
    assert (phone.receives, phone.topics, phone.alert_level) == (["alerts"], ["us-china-milcomm"], "mention")
    assert config.channel_urls == {"desk": "json://127.0.0.1:9/hook", "phone": "ntfy://ntfy.example/desk"}
    assert "127.0.0.1:9" not in repr(config)  # the URL carries tokens: never in a repr or a log


def test_a_missing_variable_is_a_start_up_error_naming_the_channel_and_its_line(tmp_path, monkeypatch):
    monkeypatch.delenv("NW_DESK_URL", raising=False)
    (problem,) = problems(write(tmp_path, "[digest]\ntimezone = \"UTC\"\n\n" + CHANNEL))
    assert "config.toml:8:" in problem and "channels.0.url_env" in problem
    assert "channel 'desk'" in problem and "NW_DESK_URL is not set" in problem


def test_bad_channel_values_are_named_by_key(tmp_path, monkeypatch):
    monkeypatch.setenv("NW_DESK_URL", "json://127.0.0.1:9/hook")
    cases = {
        'receives = ["alerts", "sms"]': "channels.0.receives.1",
        'alert_level = "loud"': "channels.0.alert_level",
        'url = "slack://T/B/C"': "unknown key",
        'nmae = "x"': "did you mean 'name'",
    }
    for line, expected in cases.items():
        found = problems(write(tmp_path, CHANNEL + line + "\n"))
        assert any(expected in p for p in found), (line, found)
    found = problems(write(tmp_path, '[[channels]]\nname = "a b"\nurl_env = "https://hooks.example/x"\n'))
    assert any("channels.0.name" in p for p in found) and any("channels.0.url_env" in p for p in found)
    assert any("two [[channels]] are named 'desk'" in p for p in problems(write(tmp_path, CHANNEL + CHANNEL)))


def test_a_topic_no_file_defines_is_named_at_its_channel(tmp_path, monkeypatch):
    from pipeline.context import load_context

    monkeypatch.setenv("NW_DESK_URL", "json://127.0.0.1:9/hook")
    (tmp_path / "sources").mkdir()
    path = write(tmp_path, '[sources]\ndir = "sources"\n' + CHANNEL + 'topics = ["us-china-milcom"]\n')
    with pytest.raises(ConfigError) as caught:
        load_context(path)
    (problem,) = [str(e) for e in all_errors(caught.value)]
    assert "config.toml:8: channels.0.topics" in problem and "'us-china-milcom'" in problem
    assert "'us-china-milcomm'" in problem  # the topics there are


def test_quiet_hours_and_the_cap_are_checked(tmp_path):
    assert "alerts.quiet_hours" in problems(write(tmp_path, '[alerts]\nquiet_hours = "22-7"\n'))[0]
    assert "alerts.max_per_hour" in problems(write(tmp_path, "[alerts]\nmax_per_hour = 0\n"))[0]
    config = load_config(write(tmp_path, '[alerts]\nquiet_hours = "22:00-07:00"\nmax_per_hour = 5\n'))
    assert (config.alerts.quiet_hours, config.alerts.max_per_hour) == ("22:00-07:00", 5)


def test_a_url_apprise_cannot_use_stops_every_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NW_DESK_URL", "nosuchservice://token@host/x")
    path = write(tmp_path, CHANNEL)
    assert main(["status", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "channels.0.url_env" in err and "channel 'desk'" in err and "Apprise cannot use" in err
    assert "token" not in err
    monkeypatch.setenv("NW_DESK_URL", "hooks.example/x")
    assert main(["status", "--config", str(path)]) == 2
    assert "does not hold an Apprise URL" in capsys.readouterr().err
