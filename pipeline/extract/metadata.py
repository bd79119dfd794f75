"""Article metadata from a parsed page: title, authors, date, language, canonical URL, image.

Sources in order of trust: JSON-LD (what the publisher tells search engines), OpenGraph and other
<meta> tags, then what a reader sees (the <h1>, a byline, a date line). Everything works on the lxml
tree the extractor already parsed, so metadata costs a few XPath queries, not another parse.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dateutil import parser as dateparser
from lxml.html import HtmlElement

from pipeline.fetch import usable_url

from .language import detect_language

ARTICLE_TYPES = {
    "article", "newsarticle", "reportagenews", "blogposting", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "techarticle", "scholarlyarticle", "report", "posting",
    "socialmediaposting", "liveblogposting", "webpage", "creativework",
}  # fmt: skip
# Publishers put the site name after the headline in <title>: "Headline | Site", "Headline - Site".
_TITLE_SUFFIX = re.compile(r"\s+[|–—•·-]\s+[^|–—•·]{2,60}$")
_BYLINE = re.compile(
    r"^\s*(?:by|author|authors|written by|автор|автори|авторка|von|par|por|di)\s*[:\-–—]?\s+"
    r"(?P<names>[^\d,|]{3,80}?)(?:\s?[,|]\s?(?P<date>[^,|]{6,40}))?$",
    re.I,
)
MAX_BYLINE_CHARS = 120
_NAME_SPLIT = re.compile(r"\s*(?:,|\band\b|&|\bи\b|\bі\b|\bта\b)\s*", re.I)
_MONTH_DATE = re.compile(
    r"\b(?:\d{1,2}\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?"
    r"\s+\d{4}\b|\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+\d{4}\b",
    re.I,
)
_NUMERIC_DATE = re.compile(r"\b(\d{1,4})[./-](\d{1,2})[./-](\d{2,4})\b")
_DATE_META = (
    "article:published_time", "og:published_time", "datepublished", "publishdate", "publish-date",
    "pubdate", "date", "dc.date", "dc.date.issued", "dcterms.created", "sailthru.date", "parsely-pub-date",
    "article.published", "published_time", "citation_publication_date", "originalpublicationdate",
)  # fmt: skip
_AUTHOR_META = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator", "byl")
_VISIBLE_DATE_XPATH = (
    ".//time[@datetime]/@datetime|.//*[@itemprop='datePublished']/@content|.//*[@itemprop='datePublished']/@datetime"
)
_VISIBLE_DATE_TEXT_XPATH = (
    ".//*[self::time or self::span or self::div or self::p or self::li]"
    "[contains(@class,'date') or contains(@class,'time') or contains(@class,'publish')"
    " or contains(@class,'meta') or contains(@class,'byline')][string-length(normalize-space()) < 80]"
)
# class names are matched case-insensitively: "newsAuthor", "ArticleByline" and "author" all count
_LOWER_CLASS = "translate(@class, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
_BYLINE_XPATH = (
    f".//*[@rel='author' or @itemprop='author' or contains({_LOWER_CLASS},'byline') "
    f"or contains({_LOWER_CLASS},'author')][string-length(normalize-space()) < 80]"
)


@dataclass
class Metadata:
    title: str = ""
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    language: str | None = None
    canonical_url: str | None = None
    image: str | None = None
    title_candidates: set[str] = field(default_factory=set)  # every headline form seen: the text drops them
    description: str = ""  # the summary publishers show as a standfirst above the body


def parse_date(text: str | None, date_order: str = "MDY") -> datetime | None:
    """A timezone-aware datetime from a date string (naive dates are taken as UTC), or None."""
    if not text or not isinstance(text, str) or len(text) > 80:
        return None
    text = text.strip()
    try:
        # ISO 8601 first: dateutil's dayfirst would read 2023-12-01 as 12 January
        value = datetime.fromisoformat(text)
    except ValueError:
        pass
    else:
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    numeric = _NUMERIC_DATE.search(text)
    dayfirst = date_order == "DMY"
    yearfirst = date_order == "YMD" or bool(numeric and len(numeric.group(1)) == 4)
    try:
        value = dateparser.parse(text, dayfirst=dayfirst, yearfirst=yearfirst, fuzzy=True)
    except (ValueError, OverflowError, TypeError):
        return None
    if not 1990 <= value.year <= 2100:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def find_date_in_text(text: str, date_order: str = "MDY") -> datetime | None:
    """The first written-out ("Dec 1, 2023") or numeric ("02/12/2023") date in a short text."""
    match = _MONTH_DATE.search(text) or _NUMERIC_DATE.search(text)
    return parse_date(match.group(0), date_order) if match else None


def parse_byline(line: str, date_order: str = "MDY") -> tuple[list[str], datetime | None] | None:
    """("Author - Serhii Kolomiets, 02/12/2023") -> (["Serhii Kolomiets"], 2023-12-02) for DMY; None if
    the line is not a byline."""
    line = " ".join(line.split())
    if len(line) > MAX_BYLINE_CHARS:
        return None
    match = _BYLINE.match(line)
    if not match:
        return None
    names = [n.strip(" .") for n in _NAME_SPLIT.split(match.group("names")) if n.strip(" .")]
    rest = match.group("date") or ""
    date = find_date_in_text(rest, date_order)
    if rest and date is None:
        names.extend(n.strip(" .") for n in _NAME_SPLIT.split(rest) if n.strip(" ."))
    if not names or not all(_looks_like_name(n) for n in names):
        return None
    return names, date


def _looks_like_name(name: str) -> bool:
    """Personal or agency names: 1-5 words, first and last capitalised ("Ludwig van Beethoven")."""
    words = name.split()
    return 1 <= len(words) <= 5 and words[0][:1].isupper() and words[-1][:1].isupper()


def _json_ld_objects(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    for script in tree.iterfind(".//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                if "@graph" in item:
                    stack.append(item["@graph"])
                yield item


def _is_article(obj: dict[str, Any]) -> bool:
    kinds = obj.get("@type", "")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(k, str) and k.lower() in ARTICLE_TYPES for k in kinds)


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() and not value.startswith("http") else []
    if isinstance(value, dict):
        return _names(value.get("name", ""))
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    return []


def _url(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        return _url(value.get("url") or value.get("contentUrl") or value.get("@id"))
    if isinstance(value, list) and value:
        return _url(value[0])
    return None


def _meta_tags(tree: HtmlElement) -> dict[str, str]:
    """First content of every <meta name|property|itemprop>, keys lower-cased."""
    found: dict[str, str] = {}
    for meta in tree.iterfind(".//meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or meta.get("http-equiv")
        content = meta.get("content")
        if key and content and content.strip():
            found.setdefault(key.strip().lower(), content.strip())
    return found


def _clean_title(title: str) -> str:
    return _TITLE_SUFFIX.sub("", " ".join(title.split()))


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        name = " ".join(name.split()).strip(" ,.")
        if name and name.lower() not in seen and len(name) < 80:
            seen[name.lower()] = name
    return list(seen.values())


def extract_metadata(tree: HtmlElement, url: str | None = None, date_order: str = "MDY") -> Metadata:
    meta = Metadata()
    tags = _meta_tags(tree)
    article_ld = [obj for obj in _json_ld_objects(tree) if _is_article(obj)]
    ld = article_ld[0] if article_ld else {}
    # a page's JSON-LD often holds the WebPage and the NewsArticle: prefer the article's fields
    for obj in article_ld:
        if str(obj.get("@type", "")).lower() not in {"webpage", "creativework"}:
            ld = obj
            break

    h1 = tree.find(".//h1")
    h1_text = " ".join(h1.text_content().split()) if h1 is not None else ""
    title_tag = tree.find(".//title")
    raw_title = " ".join(title_tag.text_content().split()) if title_tag is not None else ""
    headline = ld.get("headline") if isinstance(ld.get("headline"), str) else ""
    candidates = [headline, tags.get("og:title", ""), tags.get("twitter:title", ""), h1_text, raw_title]
    meta.title = next((_clean_title(t) for t in candidates if t and t.strip()), "")
    meta.title_candidates = {c for t in candidates if t for c in (" ".join(t.split()), _clean_title(t))}

    meta.description = tags.get("og:description") or tags.get("description") or ""

    meta.authors = _unique(_names(ld.get("author")))
    if not meta.authors:
        meta.authors = _unique(
            [n for key in _AUTHOR_META if (v := tags.get(key)) and not v.startswith("http") for n in [v]]
        )
    if not meta.authors:
        for node in tree.xpath(_BYLINE_XPATH)[:3]:
            parsed = parse_byline(node.text_content(), date_order)
            if parsed:
                meta.authors = _unique(parsed[0])
                break

    meta.published = parse_date(ld.get("datePublished") if isinstance(ld.get("datePublished"), str) else None)
    for key in _DATE_META:
        if meta.published:
            break
        meta.published = parse_date(tags.get(key), date_order)
    if not meta.published:
        meta.published = next(
            (d for v in tree.xpath(_VISIBLE_DATE_XPATH)[:5] if (d := parse_date(str(v), date_order))), None
        )
    if not meta.published:
        meta.published = next(
            (
                d
                for node in tree.xpath(_VISIBLE_DATE_TEXT_XPATH)[:10]
                if (d := find_date_in_text(node.text_content(), date_order))
            ),
            None,
        )

    canonical = tree.xpath(".//link[@rel='canonical']/@href")
    canonical_url = str(canonical[0]).strip() if canonical else tags.get("og:url") or _url(ld.get("url"))
    meta.canonical_url = usable_url(canonical_url, url)  # a page's own markup is outside input too

    image = tags.get("og:image") or tags.get("twitter:image") or _url(ld.get("image"))
    meta.image = usable_url(image, url)

    lang = tree.get("lang") or tree.get("xml:lang") or tags.get("content-language") or tags.get("og:locale")
    if not lang and isinstance(ld.get("inLanguage"), str):
        lang = ld["inLanguage"]
    meta.language = _iso639_1(lang)
    return meta


def _iso639_1(tag: str | None) -> str | None:
    if not tag:
        return None
    code = re.split(r"[-_,;\s]", tag.strip().lower(), maxsplit=1)[0]
    return code if re.fullmatch(r"[a-z]{2}", code) else None


def fill_language(meta: Metadata, text: str) -> None:
    """Detect the language from the extracted text when the page did not declare one."""
    if not meta.language and text:
        meta.language = detect_language(text)
