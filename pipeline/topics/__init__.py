"""Topics: `Article` -> `Tag`s, each with a score, a level and its evidence sentences.

In: topic files (`pipeline/defaults/*.toml` and the user's own, named in `[topics] files`) and an
item's title, text and language. Out: `Tag`s and, for `explain`, the reasoning rule by rule.
`load` validates the files into the immutable `model`; `text` folds scripts and splits sentences;
`match` finds all terms in one Aho–Corasick pass, bending them per language with `morph`;
`score` applies rules and exclusions;
`tagger` ties them together.

A new kind of rule or feature goes in `model` (its shape), `load` (its validation) and `score`.
"""

from typing import TYPE_CHECKING

from pipeline.lazy import lazy_names

# `status` reads the topic files for their languages and needs neither the matcher (pyahocorasick,
# every term bent per language) nor the scorer: each name comes from its module on first use (issue 23).
_MODULE_OF = {
    "Tagger": "tagger",
    "format_explanation": "tagger",
    "load_topics": "load",
    "languages_without_rules": "model",
    "primary_language": "model",
}

if TYPE_CHECKING:
    from .load import load_topics
    from .model import languages_without_rules, primary_language
    from .tagger import Tagger, format_explanation

__getattr__, __dir__ = lazy_names(__name__, _MODULE_OF)
__all__ = ["Tagger", "format_explanation", "languages_without_rules", "load_topics", "primary_language"]
