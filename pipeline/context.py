"""Everything a command needs, loaded and validated once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Config, load_config
from pipeline.feeds import load_sources
from pipeline.models import Source
from pipeline.store import Store
from pipeline.topics import Tagger, load_topics


@dataclass(frozen=True)
class Context:
    config: Config
    sources: dict[str, Source]
    tagger: Tagger

    def open_store(self) -> Store:
        store = Store(self.config.db_path)
        store.sync_sources(self.sources.values())
        return store


def load_context(config_path: str | Path) -> Context:
    """Raises ConfigError naming the file, line and key of the first problem found."""
    config = load_config(config_path)
    # A path that leads nowhere is the config file's mistake: name its line, not the missing path.
    if not config.sources_dir.is_dir():
        raise config.error("sources.dir", f"expected a directory of source files; {config.sources_dir} does not exist")
    for entry, file in zip(config.topics.files, config.topic_files, strict=True):
        if not file.is_file():
            raise config.error("topics.files", f"expected a topic file or a bundled topic's name; {entry!r} is "
                                               f"neither ({file} does not exist)")
    sources = {s.name: s for s in load_sources(config.sources_dir)}
    tagger = Tagger(load_topics(config.topic_files))
    return Context(config=config, sources=sources, tagger=tagger)
