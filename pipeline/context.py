"""Everything a command needs, loaded and validated once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Config, load_config
from pipeline.errors import ConfigError, ConfigErrors
from pipeline.feeds import load_sources
from pipeline.models import Source
from pipeline.store import StoreProtocol, open_store
from pipeline.topics import Tagger, load_topics


@dataclass(frozen=True)
class Context:
    config: Config
    sources: dict[str, Source]
    tagger: Tagger

    def open_store(self) -> StoreProtocol:
        store = open_store(self.config)
        store.sync_sources(self.sources.values())
        return store


def load_context(config_path: str | Path) -> Context:
    """Raises ConfigError naming the file, line and key of each problem found (ConfigErrors when
    there are several)."""
    config = load_config(config_path)
    errors: list[ConfigError] = []
    # A path that leads nowhere is the config file's mistake: name its line, not the missing path.
    if not config.sources_dir.is_dir():
        errors.append(config.error("sources.dir", f"expected a directory of source files; {config.sources_dir} "
                                                  "does not exist"))
    for entry, file in zip(config.topics.files, config.topic_files, strict=True):
        if not file.is_file():
            errors.append(config.error("topics.files", f"expected a topic file or a bundled topic's name; {entry!r} "
                                                       f"is neither ({file} does not exist)"))
        elif not _is_utf8(file):
            errors.append(config.error("topics.files", f"expected a UTF-8 topic file; {file} is not UTF-8 text "
                                                       "(save it as UTF-8)"))
    if config.backend == "sqlite" and (problem := _storage_problem(config.db_path)):
        errors.append(config.error("storage.path", problem))
    if errors:
        raise ConfigErrors(errors)
    sources = {s.name: s for s in load_sources(config.sources_dir)}
    tagger = Tagger(load_topics(config.topic_files))
    defined = [t.id for t in tagger.topics]
    for topic in config.digest.topics:
        if topic not in defined:
            errors.append(config.error("digest.topics", f"no topic file defines {topic!r}; the topics are "
                                                        f"{', '.join(map(repr, defined))}"))
    for index, channel in enumerate(config.channels):
        for topic in channel.topics:
            if topic not in defined:
                errors.append(config.error(f"channels.{index}.topics",
                                           f"channel {channel.name!r}: no topic file defines {topic!r}; the "
                                           f"topics are {', '.join(map(repr, defined))}"))
    if errors:
        raise ConfigErrors(errors)
    return Context(config=config, sources=sources, tagger=tagger)


def _is_utf8(file: Path) -> bool:
    try:
        file.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return True


def _storage_problem(path: Path) -> str | None:
    """Why a SQLite database cannot live at `path`. Its folder is created as the store would: only
    trying tells (root passes every permission check, /proc refuses anyway)."""
    if path.is_dir():
        return f"expected a database file; {path} is a directory"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create the database at {path}: {exc.strerror or exc}"
    if not path.parent.is_dir():
        return f"cannot create the database at {path}: {path.parent} is not a directory"
    return None
