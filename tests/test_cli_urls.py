"""URLs typed on the command line go through the same parser as feed links: a reason, not a traceback."""

from __future__ import annotations

import pytest
from conftest import write_config

from pipeline.cli import main


@pytest.mark.parametrize(("command", "url", "reason"), [
    ("extract", "http://127.0.0.1:99999/x", "port 99999 is out of range 1-65535"),
    ("explain", "http://[::1/x", "not a URL (Invalid IPv6 URL)"),
    ("extract", "http://127.0.0.1:abc/", "port 'abc' is not a number"),
])
def test_an_unusable_url_argument_is_one_line(tmp_path, capsys, command, url, reason):
    (tmp_path / "sources").mkdir()
    config = write_config(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        main([command, url, "--config", str(config)])
    assert str(stopped.value) == f"newswatch: cannot fetch {url}: {reason}"


def test_sources_add_refuses_an_unusable_url(tmp_path, capsys):
    (tmp_path / "sources").mkdir()
    config = write_config(tmp_path)
    assert main(["sources", "add", "http://exa mple.com/", "--config", str(config)]) == 1
    assert capsys.readouterr().err.strip() == ("newswatch: cannot add http://exa mple.com/: not a URL we can fetch: "
                                               "host 'exa mple.com' contains a space")
