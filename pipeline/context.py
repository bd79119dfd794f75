"""Everything a command needs, loaded and validated once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Config, load_config
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
    """Raises ConfigError naming the file, line and key of the first problem found."""
    config = load_config(config_path)
    sources = {s.name: s for s in load_sources(config.sources_dir)}
    tagger = Tagger(load_topics(config.topic_files))
    return Context(config=config, sources=sources, tagger=tagger)
