"""Dates from pages, with their time zone kept: an abbreviation is read in the outlet's context.

"CST" is US Central on an American site and China Standard Time (UTC+8) on a Chinese one; "IST"
is India, Israel or Ireland depending on who writes it. `dateutil` does not know any of that and,
left alone, warns and returns a naive time that is then stored as if it were UTC. Here every
abbreviation is resolved with a `DateContext`, in this order:

1. the source's own `timezone` (sources/*.toml), when the abbreviation is what that zone calls
   itself on that date ("CST" for Asia/Shanghai, "EDT" for America/New_York in summer);
2. the outlet's region (from that zone, the page's locale such as `zh-CN`, or the URL's
   country domain) for the abbreviations that mean different things in different places;
3. the abbreviation's common meaning (`_ABBREVIATIONS`).

A time with no zone at all is in the source's `timezone` when it has one, else UTC. Every date
returned is timezone-aware.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from importlib import resources
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateparser
from dateutil.tz import tzoffset

DATE_ORDERS = ("MDY", "DMY", "YMD")
_HOUR = 3600


def _fixed(hours: float) -> int:
    return int(hours * _HOUR)


# Abbreviation -> UTC offset in seconds (fixed: the abbreviation itself says standard or summer
# time) or an IANA zone name (a generic name like "ET" follows the zone's daylight saving time).
_ABBREVIATIONS: dict[str, int | str] = {
    "UTC": 0, "UT": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": _fixed(1),
    "EST": _fixed(-5), "EDT": _fixed(-4), "CST": _fixed(-6), "CDT": _fixed(-5),
    "MST": _fixed(-7), "MDT": _fixed(-6), "PST": _fixed(-8), "PDT": _fixed(-7),
    "AKST": _fixed(-9), "AKDT": _fixed(-8), "HST": _fixed(-10),
    "ET": "America/New_York", "CT": "America/Chicago", "MT": "America/Denver", "PT": "America/Los_Angeles",
    "BST": _fixed(1), "IST": _fixed(5.5), "CET": _fixed(1), "CEST": _fixed(2), "MEZ": _fixed(1),
    "MESZ": _fixed(2), "EET": _fixed(2), "EEST": _fixed(3), "MSK": _fixed(3), "SAST": _fixed(2),
    "PKT": _fixed(5), "ICT": _fixed(7), "WIB": _fixed(7), "BJT": _fixed(8), "HKT": _fixed(8),
    "SGT": _fixed(8), "PHT": _fixed(8), "AWST": _fixed(8), "JST": _fixed(9), "KST": _fixed(9),
    "ACST": _fixed(9.5), "AEST": _fixed(10), "AEDT": _fixed(11), "NZST": _fixed(12), "NZDT": _fixed(13),
}  # fmt: skip
# Abbreviations whose meaning depends on the region of the outlet that wrote them.
_BY_REGION: dict[str, dict[str, int]] = {
    "CST": {region: _fixed(8) for region in ("CN", "TW", "HK", "MO", "SG")} | {"CU": _fixed(-5)},
    "IST": {"IL": _fixed(2), "IE": _fixed(1)},
    "BST": {"BD": _fixed(6)},
}
# Regions implied by a page's language when it names no country ("zh" is written in UTC+8 zones).
_LANGUAGE_REGIONS = {"zh": "CN", "ja": "JP", "ko": "KR", "he": "IL", "hi": "IN", "bn": "BD", "ru": "RU", "uk": "UA"}
_LOCALE = re.compile(r"^([a-z]{2,3})(?:[-_]([a-z]{2}))?\b", re.I)
_NUMERIC_DATE = re.compile(r"\b(\d{1,4})[./-](\d{1,2})[./-](\d{2,4})\b")
# "GMT+3" in prose means three hours ahead of UTC; dateutil reads it the POSIX way, as UTC-3
_GMT_OFFSET = re.compile(r"\b(?:GMT|UTC)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\b")


@dataclass(frozen=True)
class DateContext:
    """How to read a source's dates: numeric order, its zone for zone-less times, its region."""

    order: str = "MDY"  # "MDY", "DMY" or "YMD" for ambiguous numeric dates
    zone: tzinfo = UTC  # a time given without a zone is in this zone
    region: str | None = None  # ISO 3166 country code of the outlet, when known

    def with_page(self, locale: str | None, url: str | None) -> DateContext:
        """This context with the region filled from the page's locale or URL, if it had none."""
        if self.region:
            return self
        region = region_of_locale(locale) or region_of_url(url)
        return DateContext(self.order, self.zone, region) if region else self


DEFAULT_CONTEXT = DateContext()


def source_context(order: str = "MDY", timezone_name: str | None = None) -> DateContext:
    """The context for a source's `date_order` and optional IANA `timezone` (already validated)."""
    if not timezone_name:
        return DateContext(order)
    return DateContext(order, ZoneInfo(timezone_name), _zone_regions().get(timezone_name))


def valid_timezone(name: object) -> bool:
    """True for an IANA zone name this machine knows ("Asia/Shanghai", "UTC")."""
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache(maxsize=1)
def _zone_regions() -> dict[str, str]:
    """IANA zone -> country code, from the tz database's own zone table."""
    try:
        table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("utf-8")
    except (ModuleNotFoundError, OSError):
        return {}
    regions = {}
    for line in table.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and not line.startswith("#"):
            regions[fields[2]] = fields[0]
    return regions


def region_of_locale(locale: str | None) -> str | None:
    match = _LOCALE.match(locale.strip()) if locale else None
    if not match:
        return None
    language, country = match.group(1).lower(), match.group(2)
    return country.upper() if country else _LANGUAGE_REGIONS.get(language)


def region_of_url(url: str | None) -> str | None:
    """The country of a country-code domain ("news.example.cn", "example.co.uk")."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return None
    tld = host.rsplit(".", 1)[-1].upper()
    if len(tld) != 2 or not tld.isalpha():
        return None
    return "GB" if tld == "UK" else tld


def resolve_abbreviation(name: str, context: DateContext, when: datetime | None = None) -> tzinfo | None:
    """The zone an abbreviation stands for in this context, or None when it is not one we know."""
    key = name.upper().strip(".")
    zone = context.zone
    # the source's own zone, when it calls itself by this name at that moment
    if when is not None and isinstance(zone, ZoneInfo) and zone.tzname(when.replace(tzinfo=None)) == key:
        return zone
    regional = _BY_REGION.get(key, {})
    if context.region in regional:
        return tzoffset(key, regional[context.region])
    meaning = _ABBREVIATIONS.get(key)
    if meaning is None:
        return None
    return ZoneInfo(meaning) if isinstance(meaning, str) else tzoffset(key, meaning)


def parse_date(text: str | None, context: DateContext = DEFAULT_CONTEXT) -> datetime | None:
    """A timezone-aware datetime from a date string read in `context`, or None."""
    if not text or not isinstance(text, str) or len(text) > 80:
        return None
    text = text.strip()
    try:
        # ISO 8601 first: dateutil's dayfirst would read 2023-12-01 as 12 January
        value = datetime.fromisoformat(text)
    except ValueError:
        pass
    else:
        return _aware(value, context)
    text = _GMT_OFFSET.sub(lambda m: f"{m.group(1)}{int(m.group(2)):02d}:{m.group(3) or '00'}", text)
    numeric = _NUMERIC_DATE.search(text)
    dayfirst = context.order == "DMY"
    yearfirst = context.order == "YMD" or bool(numeric and len(numeric.group(1)) == 4)
    found: list[str] = []

    def zone_of(name: str | None, offset: int | None) -> tzinfo | None:
        if offset is not None:  # a numeric offset says exactly what it means
            return timezone(timedelta(seconds=offset))
        if name:
            found.append(name)  # resolved below, once the date (so daylight saving time) is known
        return None

    try:
        value = dateparser.parse(text, dayfirst=dayfirst, yearfirst=yearfirst, fuzzy=True, tzinfos=zone_of)
    except (ValueError, OverflowError, TypeError):
        return None
    if not 1990 <= value.year <= 2100:
        return None
    if found and value.tzinfo is None:
        zone = resolve_abbreviation(found[-1], context, value)
        if zone is not None:
            return value.replace(tzinfo=zone)
    return _aware(value, context)


def _aware(value: datetime, context: DateContext) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=context.zone)
