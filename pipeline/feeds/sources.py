"""Read the news sources: one TOML file per outlet under the sources directory."""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from dataclasses import replace
from pathlib import Path

from pipeline.errors import ConfigError, ConfigErrors, find_key_line
from pipeline.fetch import BadUrl, parse_url
from pipeline.models import ExtractionRules, FeedConfig, Source

_SOURCE_KEYS = {"name", "homepage", "language", "feeds", "extract", "min_delay", "timezone", "category", "critical",
                "max_age_days", "only_new"}
_FEED_KEYS = {"url", "interval"}
# Past these a value is a typo: 1e300 seconds between requests stops the source for ever.
MAX_DELAY_SECONDS = 3600.0
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_INTERVAL_MINUTES = 30 * 24 * 60
MAX_AGE_DAYS = 3650


def _number(value: object) -> bool:
    """A finite int or float: TOML also has booleans, inf and nan, and none of them is a duration."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _url_problem(value: object) -> str | None:
    """Why `value` is not a URL we can fetch, in the one-line form of a config error."""
    if not isinstance(value, str):
        return f"expected an http(s) URL, got {type(value).__name__} {value!r}"
    url = parse_url(value)
    return f"expected an http(s) URL, got {value!r}: {url.reason}" if isinstance(url, BadUrl) else None


def parse_source(data: dict, file: Path, text: str = "") -> Source:
    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(file, key, problem, find_key_line(text, key) if text else None)

    for key in data:
        if key not in _SOURCE_KEYS:
            close = difflib.get_close_matches(key, sorted(_SOURCE_KEYS), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise fail(key, f"unknown key; {hint}expected one of {', '.join(sorted(_SOURCE_KEYS))}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail("name", "expected a non-empty string")
    homepage = data.get("homepage", "")
    if homepage and (problem := _url_problem(homepage)):
        raise fail("homepage", problem)
    language = data.get("language", "en")
    if not isinstance(language, str) or len(language) != 2:
        raise fail("language", "expected a two-letter ISO 639-1 code like \"en\"")
    min_delay = data.get("min_delay")
    if min_delay is not None and (not _number(min_delay) or not 0 <= min_delay <= MAX_DELAY_SECONDS):
        raise fail("min_delay", f"expected a number of seconds from 0 to {MAX_DELAY_SECONDS:g}")
    category = data.get("category", "")
    if not isinstance(category, str) or _CONTROL.search(category):
        raise fail("category", "expected a folder name on one line, like \"Defence\"")
    critical = data.get("critical", False)
    if not isinstance(critical, bool):
        raise fail("critical", "expected true or false")
    max_age = data.get("max_age_days")
    if max_age is not None and (type(max_age) is not int or not 0 <= max_age <= MAX_AGE_DAYS):
        raise fail("max_age_days", f"expected a whole number of days from 0 to {MAX_AGE_DAYS} (0: no limit)")
    if not isinstance(data.get("only_new", False), bool):
        raise fail("only_new", "expected true or false")
    feeds_data = data.get("feeds")
    if not isinstance(feeds_data, list) or not feeds_data:
        raise fail("feeds", "expected at least one [[feeds]] table with a url")
    feeds = []
    for i, feed in enumerate(feeds_data):
        if not isinstance(feed, dict):
            raise fail(f"feeds.{i}", "expected a [[feeds]] table")
        for key in feed:
            if key not in _FEED_KEYS:
                raise fail(f"feeds.{i}.{key}", "unknown key; expected url or interval")
        if "url" not in feed:
            raise fail(f"feeds.{i}", "expected a url in each [[feeds]] table")
        if problem := _url_problem(feed["url"]):
            raise fail(f"feeds.{i}.url", problem)
        interval = feed.get("interval")
        if interval is not None and (not _number(interval) or not 0 < interval <= MAX_INTERVAL_MINUTES):
            raise fail(f"feeds.{i}.interval", f"expected a number of minutes > 0 and at most {MAX_INTERVAL_MINUTES}")
        feeds.append(FeedConfig(url=feed["url"], interval=int(interval * 60) if interval else None))
    rules = ExtractionRules()
    if "extract" in data:
        from pipeline.extract import parse_rules  # the extractor owns what its rules mean

        if not isinstance(data["extract"], dict):
            raise fail("extract", "expected an [extract] table")
        try:
            rules = parse_rules(data["extract"], str(file))
        except ConfigError as exc:
            raise ConfigError(file, exc.key, exc.problem, find_key_line(text, exc.key)) from None
    if "timezone" in data:
        from pipeline.extract.dates import valid_timezone

        if not valid_timezone(data["timezone"]):
            raise fail("timezone", 'expected an IANA time zone name like "Asia/Shanghai" or "America/New_York"')
        rules = replace(rules, timezone=data["timezone"])
    return Source(
        name=name.strip(),
        homepage=homepage,
        language=language,
        feeds=tuple(feeds),
        rules=rules,
        min_delay=float(min_delay) if min_delay is not None else None,
        path=str(file),
        category=category.strip(),
        critical=critical,
        max_age_days=max_age,
        only_new=data.get("only_new", False),
    )


def load_source(file: Path) -> Source:
    try:
        text = file.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError.from_toml(file, exc) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(file, "", f"cannot read source file: {exc}") from None
    return parse_source(data, file, text)


def _read_sources(directory: Path) -> list[Source | ConfigError]:
    """Each source file in `directory`, sorted by name, as its Source or what is wrong with it."""
    if not directory.is_dir():
        return [ConfigError(directory, "sources.dir", "expected a directory of source files; it does not exist")]
    results: list[Source | ConfigError] = []
    seen: dict[str, str] = {}
    feeds_seen: dict[str, tuple[str, str]] = {}
    for file in sorted(directory.glob("*.toml")):
        try:
            source = load_source(file)
        except ConfigError as exc:
            results.append(exc)
            continue
        if source.name in seen:
            line = find_key_line(file.read_text(encoding="utf-8"), "name")
            results.append(ConfigError(file, "name", f"source name {source.name!r} is already used by "
                                                     f"{seen[source.name]}", line))
            continue
        twice = next((f.url for f in source.feeds if f.url in feeds_seen), None)
        if twice:  # one feed under two names is polled and counted twice
            line = find_key_line(file.read_text(encoding="utf-8"), "feeds.0.url")
            owner, owner_file = feeds_seen[twice]
            results.append(ConfigError(file, "feeds", f"{twice} is already followed by {owner}: {owner_file}", line))
            continue
        seen[source.name] = str(file)
        feeds_seen.update({f.url: (source.name, str(file)) for f in source.feeds})
        results.append(source)
    return results


def load_sources(directory: Path) -> list[Source]:
    """All sources in `directory`, sorted by file name; names must be unique. Raises ConfigError,
    ConfigErrors when several files are broken."""
    results = _read_sources(directory)
    errors = [r for r in results if isinstance(r, ConfigError)]
    if errors:  # every broken file at once, one line each
        raise errors[0] if len(errors) == 1 else ConfigErrors(errors)
    return [r for r in results if isinstance(r, Source)]


def check_sources(directory: Path) -> list[ConfigError]:
    """Every problem with the source files in `directory`, one per broken file: for `status`,
    which must show them all rather than stop at the first."""
    return [r for r in _read_sources(directory) if isinstance(r, ConfigError)]


def read_sources(directory: Path) -> list[Source]:
    """The sources that load, leaving the broken files out: for readers (health, listings) that must
    not stop at one bad file, which `check_sources` and `status` report."""
    return [r for r in _read_sources(directory) if isinstance(r, Source)]
