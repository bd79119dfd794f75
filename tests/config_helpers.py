"""The config file most tests start from."""

from __future__ import annotations

from pathlib import Path


def write_config(directory: Path, body: str = "", sources_dir: str = "sources") -> Path:
    """A config.toml for tests: local addresses allowed, no politeness delay, storage in `directory`."""
    config = directory / "config.toml"
    config.write_text(
        f'[storage]\npath = "newswatch.db"\n\n[sources]\ndir = "{sources_dir}"\n\n'
        "[network]\nallow_private_addresses = true\nmin_host_delay = 0.0\ntimeout = 10.0\n\n" + body,
        encoding="utf-8",
    )
    return config
