"""A process pool for the CPU-bound stages (extract, tag), so both cores work while the event
loop keeps the network busy.

Workers build their own Tagger once, from the topic files, instead of receiving it with every
page: compiled rules are large to pickle and identical for every call.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

from .extract import extract_article
from .models import Article, ExtractionRules, Tag
from .topics import Tagger, load_topics

_tagger: Tagger | None = None


def _init_worker(topic_files: list[str]) -> None:
    global _tagger
    _tagger = Tagger(load_topics([Path(f) for f in topic_files]))


def analyse(page: bytes, url: str, content_type: str | None, rules: ExtractionRules | None,
            boilerplate: frozenset[str], tagger: Tagger | None = None) -> tuple[Article, list[Tag]]:
    """Extract then tag one page. Pure: the same input always gives the same output."""
    tagger = tagger or _tagger
    assert tagger is not None, "analyse() in a worker needs _init_worker first"
    article = extract_article(page, url, rules, content_type=content_type, known_boilerplate=boilerplate)
    return article, tagger.tag(article.title, article.text, article.language)


def make_pool(topic_files: list[Path], workers: int | None = None) -> Executor:
    # forkserver: the service has threads (scheduler, event loop) that a plain fork would copy mid-state.
    return ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=_init_worker,
        initargs=([str(f) for f in topic_files],),
    )
