"""Topics: `Article` -> `Tag`s, each with a score, a level and its evidence sentences.

In: topic files (`pipeline/defaults/*.toml` and the user's own, named in `[topics] files`) and an
item's title, text and language. Out: `Tag`s and, for `explain`, the reasoning rule by rule.
`load` validates the files into the immutable `model`; `text` folds scripts and splits sentences;
`match` finds all terms in one Aho–Corasick pass, bending them per language with `morph`;
`score` applies rules and exclusions;
`tagger` ties them together.

A new kind of rule or feature goes in `model` (its shape), `load` (its validation) and `score`.
"""

from .tagger import Tagger, format_explanation, languages_without_rules, load_topics, primary_language

__all__ = ["Tagger", "format_explanation", "languages_without_rules", "load_topics", "primary_language"]
