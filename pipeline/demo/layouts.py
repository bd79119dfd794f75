"""HTML pages and feeds for the demo outlets, in three realistic layouts.

Each page wraps the story in the boilerplate its kind of site carries (navigation, "Recent news",
"READ ALSO" promos, photo captions, comment forms, footers), so the demo exercises the extractor
the way real pages do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from html import escape


@dataclass(frozen=True)
class Outlet:
    slug: str
    name: str
    layout: str
    language: str
    date_order: str = "MDY"


@dataclass(frozen=True)
class Story:
    outlet: str
    slug: str
    title: str
    published: datetime
    author: str
    body: tuple[str, ...]
    topic: bool | str = False  # True, False or "mention": what the tagger should make of it
    category: str = ""

    def path(self) -> str:
        return f"/{self.outlet}/news/{self.slug}.html"

    def clean_text(self) -> str:
        """The article text a perfect extractor returns: captions and promos dropped."""
        kept = [p.removeprefix("## ") for p in self.body if not p.startswith(("[photo] ", "[read-also] "))]
        return "\n\n".join(kept)


def _body_html(story: Story, others: list[Story]) -> str:
    parts = []
    promos = iter(others)
    for block in story.body:
        if block.startswith("[photo] "):
            parts.append(f'<figure class="wp-block-image"><img src="/static/photo.jpg" alt="">'
                         f'<figcaption>{escape(block.removeprefix("[photo] "))}</figcaption></figure>')
        elif block.startswith("[read-also] "):
            target = next(promos, None)
            href = target.path() if target else "#"
            parts.append(f'<p class="read-also"><strong>READ ALSO: <a href="{href}">'
                         f'{escape(block.removeprefix("[read-also] "))}</a></strong></p>')
        elif block.startswith("## "):
            parts.append(f"<h2>{escape(block.removeprefix('## '))}</h2>")
        else:
            parts.append(f"<p>{escape(block)}</p>")
    return "\n".join(parts)


def _head(story: Story, outlet: Outlet, base: str, extra: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="{outlet.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(story.title)} | {escape(outlet.name)}</title>
<link rel="canonical" href="{base}{story.path()}">
<link rel="alternate" type="application/rss+xml" title="{escape(outlet.name)}" href="{base}/{outlet.slug}/feed.xml">
<meta property="og:title" content="{escape(story.title)}">
<meta property="og:type" content="article">
<meta property="og:site_name" content="{escape(outlet.name)}">
<meta property="og:image" content="{base}/static/photo.jpg">
<meta property="article:published_time" content="{story.published.isoformat()}">
{extra}
<link rel="stylesheet" href="/static/site.css">
<script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments);}}</script>
</head>"""


def _recent(others: list[Story]) -> str:
    return "\n".join(f'<li><a href="{s.path()}">{escape(s.title)}</a></li>' for s in others[:5])


def portal_page(story: Story, outlet: Outlet, others: list[Story], base: str) -> str:
    day_first = story.published.strftime("%d/%m/%Y")
    return _head(story, outlet, base) + f"""
<body class="page-news">
<header class="top">
  <a class="logo" href="/{outlet.slug}/">{escape(outlet.name)}</a>
  <nav class="menu"><ul>
    <li><a href="/{outlet.slug}/">Home</a></li><li><a href="/{outlet.slug}/war">War</a></li>
    <li><a href="/{outlet.slug}/politics">Politics</a></li><li><a href="/{outlet.slug}/economy">Economy</a></li>
    <li><a href="/{outlet.slug}/world">World</a></li><li><a href="/{outlet.slug}/society">Society</a></li>
  </ul></nav>
  <div class="lang"><a href="#">UKR</a> <a href="#">ENG</a> <a href="#">DEU</a></div>
</header>
<main class="layout">
  <div class="content">
    <a class="back" href="/{outlet.slug}/">&lt; Back</a>
    <article class="news">
      <h1 class="newsTitle">{escape(story.title)}</h1>
      <div class="newsMeta"><time datetime="{story.published.isoformat()}">{story.published:%b} {story.published.day}, {story.published.year}</time></div>
      <div class="newsText">
{_body_html(story, others)}
      </div>
      <div class="newsAuthor">Author - {escape(story.author)}, {day_first}</div>
      <div class="share">Share: <a href="#">Facebook</a> <a href="#">Telegram</a> <a href="#">X</a></div>
    </article>
  </div>
  <aside class="sidebar">
    <h3>Recent news</h3>
    <ul class="recent">
{_recent(others)}
    </ul>
  </aside>
</main>
<footer class="bottom">
  <div class="connect">Connect with us <a href="#">Facebook</a> <a href="#">Telegram</a> <a href="#">YouTube</a></div>
  <p>All materials on this site are available under the conditions set out in the terms of use.</p>
  <p>&copy; 2015-2024 {escape(outlet.name)}. All rights reserved.</p>
</footer>
</body>
</html>
"""


def magazine_page(story: Story, outlet: Outlet, others: list[Story], base: str) -> str:
    ld = json.dumps({
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": story.title,
        "datePublished": story.published.isoformat(), "author": [{"@type": "Person", "name": story.author}],
        "publisher": {"@type": "Organization", "name": outlet.name},
    }, ensure_ascii=False)
    return _head(story, outlet, base, f'<script type="application/ld+json">{ld}</script>') + f"""
<body class="post-template-default single single-post">
<div id="page">
<header class="site-header">
  <div class="header-search"><form role="search"><input type="search" placeholder="Hi, what are you looking for?"><button>Search</button></form></div>
  <div class="site-branding"><a href="/{outlet.slug}/">{escape(outlet.name)}</a></div>
  <nav class="main-navigation"><ul>
    <li><a href="/{outlet.slug}/category/us-china">US-China</a></li><li><a href="/{outlet.slug}/category/asia">Asia</a></li>
    <li><a href="/{outlet.slug}/category/navy">Navy</a></li><li><a href="/{outlet.slug}/category/opinion">Opinion</a></li>
  </ul></nav>
</header>
<div id="content" class="site-content">
<main id="main">
<article class="post type-post">
  <div class="entry-category"><a href="/{outlet.slug}/category/x" rel="category tag">{escape(story.category)}</a></div>
  <header class="entry-header"><h1 class="entry-title">{escape(story.title)}</h1>
    <div class="entry-meta">By <span class="author vcard">{escape(story.author)}</span> &middot;
      <time class="entry-date published" datetime="{story.published.isoformat()}">{story.published:%B} {story.published.day}, {story.published.year}</time></div>
  </header>
  <div class="entry-content">
{_body_html(story, others)}
  </div>
  <footer class="entry-footer"><span class="tags-links">Tagged <a href="#">Pentagon</a>, <a href="#">PLA</a></span></footer>
</article>
<div class="comments-area">
  <a class="comment-link" href="#respond">Click to comment</a>
  <div id="respond" class="comment-respond">
    <h3 class="comment-reply-title">Leave a Reply</h3>
    <form class="comment-form"><p class="comment-notes">Your email address will not be published. Required fields are marked *</p>
      <textarea name="comment"></textarea><input name="author" placeholder="Name*"><input name="email" placeholder="Email*">
      <input type="submit" value="Post Comment"></form>
  </div>
</div>
</main>
<aside class="widget-area">
  <section class="widget"><h2 class="widget-title">Recent news</h2><ul>
{_recent(others)}
  </ul></section>
  <section class="widget"><h2 class="widget-title">Connect with us</h2><a href="#">Facebook</a> <a href="#">X</a></section>
</aside>
</div>
<footer class="site-footer"><p>Copyright &copy; 2024 {escape(outlet.name)}. Theme by a theme shop.</p></footer>
</div>
</body>
</html>
"""


def wire_page(story: Story, outlet: Outlet, others: list[Story], base: str) -> str:
    return _head(story, outlet, base) + f"""
<body>
<div class="masthead"><a href="/{outlet.slug}/">{escape(outlet.name)}</a> <span>Independent news agency</span></div>
<nav class="sections"><a href="/{outlet.slug}/world">World</a> | <a href="/{outlet.slug}/business">Business</a> | <a href="/{outlet.slug}/markets">Markets</a></nav>
<div class="story">
  <h1>{escape(story.title)}</h1>
  <p class="byline">By {escape(story.author)} | <time datetime="{story.published.isoformat()}">{story.published:%B} {story.published.day}, {story.published:%Y %H:%M %Z}</time></p>
  <div class="story-body">
{_body_html(story, others)}
  </div>
  <p class="trust">Our standards: the Harbor Wire Trust Principles.</p>
</div>
<div class="more"><h4>More from {escape(outlet.name)}</h4><ul>
{_recent(others)}
</ul></div>
<footer>&copy; 2024 {escape(outlet.name)}. Republication without permission is prohibited.</footer>
</body>
</html>
"""


PAGE_LAYOUTS = {"portal": portal_page, "magazine": magazine_page, "wire": wire_page}


def section_front(outlet: Outlet, stories: list[Story]) -> str:
    items = "\n".join(f'<li><a href="{s.path()}">{escape(s.title)}</a> <span>{s.published:%d.%m.%Y}</span></li>'
                      for s in stories)
    return f"""<!DOCTYPE html><html lang="{outlet.language}"><head><meta charset="utf-8">
<title>{escape(outlet.name)}</title></head>
<body><header><a href="/{outlet.slug}/">{escape(outlet.name)}</a><nav><a href="#">World</a> <a href="#">Politics</a></nav></header>
<main><h2>Latest</h2><ul>{items}</ul></main><footer>Connect with us</footer></body></html>
"""


def rss_feed(outlet: Outlet, stories: list[Story], base: str) -> str:
    items = "\n".join(f"""  <item>
    <title>{escape(s.title)}</title>
    <link>{base}{s.path()}?utm_source=rss&amp;utm_medium=feed</link>
    <guid isPermaLink="false">{outlet.slug}-{s.slug}</guid>
    <pubDate>{format_datetime(s.published)}</pubDate>
    <description>{escape(s.clean_text().split(chr(10))[0])}</description>
  </item>""" for s in stories)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0">
<channel>
  <title>{escape(outlet.name)}</title>
  <link>{base}/{outlet.slug}/</link>
  <description>Latest news from {escape(outlet.name)}</description>
  <language>{outlet.language}</language>
{items}
</channel>
</rss>
"""


def atom_feed(outlet: Outlet, stories: list[Story], base: str) -> str:
    updated = max(s.published for s in stories).isoformat()
    entries = "\n".join(f"""  <entry>
    <title>{escape(s.title)}</title>
    <link rel="alternate" href="{base}{s.path()}"/>
    <id>tag:{outlet.slug},2024:{s.slug}</id>
    <updated>{s.published.isoformat()}</updated>
    <author><name>{escape(s.author)}</name></author>
    <summary>{escape(s.clean_text().split(chr(10))[0])}</summary>
  </entry>""" for s in stories)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>{escape(outlet.name)}</title>
  <id>tag:{outlet.slug},2024:feed</id>
  <updated>{updated}</updated>
  <link rel="self" href="{base}/{outlet.slug}/feed.xml"/>
{entries}
</feed>
"""
