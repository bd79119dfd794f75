"""The digest as one HTML page that mail clients show as intended.

Mail clients drop <style> blocks and external CSS, so every style is inline. Titles and sentences come
from other people's feeds, so everything is escaped as it is written and the finished fragment then
goes through nh3 (an allow-list sanitizer): no script, no event handlers, no javascript: URLs, even
if one of them slipped past the escaping.
"""

from __future__ import annotations

from html import escape

import nh3

from .build import Digest, DigestEntry, Sentence
from .common import EARLIER, ROOM_LABEL, counts_line, empty_line, failing_line, late_line, local_time

_FONT = "font-family:Helvetica,Arial,sans-serif;color:#1f2328"
STYLE = {
    # overflow-wrap: a feed's 200-character URL must wrap on a phone instead of widening the page.
    "body": f"margin:0 auto;max-width:720px;padding:16px;background:#ffffff;{_FONT};font-size:15px;"
            "line-height:1.45;overflow-wrap:anywhere;word-wrap:break-word",
    "h1": "font-size:20px;margin:0 0 4px 0",
    "summary": "color:#57606a;font-size:13px;margin:0 0 16px 0",
    "h2": "font-size:16px;margin:20px 0 8px 0;padding-bottom:4px;border-bottom:1px solid #d0d7de",
    "story": "margin:0 0 18px 0",
    "h3": "font-size:16px;margin:0 0 2px 0",
    "meta": "color:#57606a;font-size:13px;margin:0 0 6px 0",
    "text": "margin:0 0 6px 0",
    "evidence": "margin:0 0 6px 0;padding:2px 0 2px 10px;border-left:3px solid #d4a72c;color:#3d444d",
    # The evidence sentence as one quiet span; inside it only the two parties' names are bold.
    "mark": "background:#fdf6d8",
    "links": "font-size:13px;margin:0",
    "a": "color:#0969da",
    "mentions": "margin:0;padding-left:18px",
    "mention": "margin:0 0 6px 0",
    "footer": "color:#57606a;font-size:12px;margin:24px 0 0 0;border-top:1px solid #d0d7de;padding-top:8px",
}

_TAGS = {"div", "h1", "h2", "h3", "p", "ul", "li", "a", "strong", "em", "span", "mark", "br", "small"}
_CSS = {"background", "border-bottom", "border-left", "border-top", "color", "font-family", "font-size", "font-weight",
        "line-height", "margin", "padding", "padding-bottom", "padding-left", "padding-top"}


def sanitize(fragment: str) -> str:
    return nh3.clean(
        fragment, tags=_TAGS, clean_content_tags={"script", "style"},
        attributes={"*": {"style"}, "a": {"href", "title"}}, url_schemes={"http", "https"},
        filter_style_properties=_CSS, link_rel="noopener noreferrer",
    )


def _s(name: str) -> str:
    return f'style="{STYLE[name]}"'


def _link(url: str | None, label: str) -> str:
    if not url:
        return escape(label)
    return f'<a href="{escape(url)}" {_s("a")}>{escape(label)}</a>'


def _sentence(sentence: Sentence) -> str:
    """A sentence; the evidence one in a single quiet <mark> with the parties' names in <strong>."""
    if not sentence.evidence:
        return escape(sentence.plain)
    inner = "".join(f"<strong>{escape(s.text)}</strong>" if s.name else escape(s.text) for s in sentence.spans)
    return f'<mark {_s("mark")}>{inner}</mark>'



def _meta(entry: DigestEntry) -> str:
    when = local_time(entry.published)
    return escape(" · ".join(p for p in (", ".join(entry.sources), when) if p))


def _story(number: int | None, entry: DigestEntry) -> str:
    prefix = f"{number}. " if number else ""
    links = " · ".join([*(_link(o.url, o.source) for o in entry.outlets),
                        *([_link(entry.room, ROOM_LABEL)] if entry.room else [])])
    return (
        f'<div {_s("story")}>'
        f'<h3 {_s("h3")}>{prefix}{_link(entry.link, entry.headline)}</h3>'
        f'<p {_s("meta")}>{_meta(entry)}</p>'
        f'<p {_s("text")}>{" ".join(_sentence(s) for s in entry.lead)}</p>'
        + "".join(f'<p {_s("evidence")}>{_sentence(s)}</p>' for s in entry.evidence) +
        f'<p {_s("links")}>{links}</p>'
        "</div>"
    )


def _mention(entry: DigestEntry) -> str:
    evidence = next((s for s in entry.sentences if s.evidence), None)
    return (
        f'<li {_s("mention")}>{_link(entry.link, entry.headline)} '
        f'<small {_s("meta")}>{_meta(entry)}</small>'
        + (f' <small>{_link(entry.room, ROOM_LABEL)}</small>' if entry.room else "")
        + (f'<br><small>{_sentence(evidence)}</small>' if evidence else "")
        + "</li>"
    )


def entry_html(entry: DigestEntry) -> str:
    """One story as a sanitized fragment: the Atom feed's entry content."""
    return sanitize(_story(None, entry))


def render_html(digest: Digest) -> str:
    parts = [f'<h1 {_s("h1")}>{escape(digest.title)}</h1>', f'<p {_s("summary")}>{escape(counts_line(digest))}</p>']
    if digest.empty:
        parts.append(f'<p {_s("text")}>{escape(empty_line(digest))}</p>')
    if digest.stories:
        parts.append(f'<h2 {_s("h2")}>Stories</h2>')
        parts += [_story(n, e) for n, e in enumerate(digest.stories, 1)]
    if digest.mentions:
        parts.append(f'<h2 {_s("h2")}>Mentions</h2><ul {_s("mentions")}>')
        parts += [_mention(e) for e in digest.mentions]
        parts.append("</ul>")
    if digest.earlier:
        parts.append(f'<h2 {_s("h2")}>{EARLIER}</h2><ul {_s("mentions")}>')
        parts += [f'<li {_s("mention")}>{_link(e.link, e.headline)} <small {_s("meta")}>{escape(late_line(e))}'
                  "</small>" + (f' <small>{_link(e.room, ROOM_LABEL)}</small>' if e.room else "") + "</li>"
                  for e in digest.earlier]
        parts.append("</ul>")
    footer = [escape(line) for line in failing_line(digest)]
    footer.append(escape(f"Generated by newswatch at {local_time(digest.generated_at)}."))
    parts.append(f'<p {_s("footer")}>{"<br>".join(footer)}</p>')
    body = sanitize("".join(parts))
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape(digest.title)}</title></head>\n"
        f'<body {_s("body")}>{body}</body></html>\n'
    )
