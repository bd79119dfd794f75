"""Feed formats, charsets, malformed input and hostile XML."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pipeline.feeds import parse_feed

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Example News</title><ttl>90</ttl>
<item><title>Café talks &amp; more</title><link>https://www.example.com/a/1/?utm_source=rss</link>
<guid>id-1</guid><pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate>
<description>&lt;p&gt;First&lt;/p&gt;</description></item>
<item><title>No link</title><guid isPermaLink="false">id-2</guid></item>
<item><title>Relative</title><link>/a/3</link></item>
</channel></rss>"""


def test_rss20():
    feed = parse_feed(RSS.encode(), "https://example.com/feed")
    assert feed.error is None and feed.title == "Example News" and feed.ttl_seconds == 90 * 60
    # the fetched and shown link loses its tracking parameters; the item without a link keeps its text
    assert [i.url for i in feed.items] == ["https://www.example.com/a/1/", "", "https://example.com/a/3"]
    first, linkless = feed.items[0], feed.items[1]
    assert (linkless.title, linkless.guid, linkless.link_problem) == ("No link", "id-2", "no link")
    assert linkless.canonical_url.startswith("feed-text:") and feed.skipped == ()
    assert first.canonical_url == "example.com/a/1" and first.guid == "id-1" and first.title == "Café talks & more"
    assert first.summary == "First" and first.published == datetime(2024, 1, 2, 10, tzinfo=UTC)


def test_rss091_and_rdf():
    rss091 = b'<rss version="0.91"><channel><title>Old</title><item><title>A</title><link>http://e.com/a</link>' \
             b"</item></channel></rss>"
    rdf = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
      xmlns="http://purl.org/rss/1.0/"><channel rdf:about="http://e.com/"><title>RDF</title></channel>
      <item rdf:about="http://e.com/b"><title>B</title><link>http://e.com/b</link></item></rdf:RDF>"""
    assert [i.url for i in parse_feed(rss091, "http://e.com/").items] == ["http://e.com/a"]
    parsed = parse_feed(rdf, "http://e.com/")
    assert [i.url for i in parsed.items] == ["http://e.com/b"] and parsed.format == "rss10"


def test_atom():
    atom = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
      <entry><title type="html">&lt;b&gt;Bold&lt;/b&gt;</title><id>urn:uuid:1</id>
      <link rel="alternate" href="https://e.com/x"/><updated>2024-03-01T08:00:00+02:00</updated>
      <author><name>Ann</name></author></entry></feed>"""
    item = parse_feed(atom, "https://e.com/atom").items[0]
    assert (item.url, item.guid, item.title, item.author) == ("https://e.com/x", "urn:uuid:1", "Bold", "Ann")
    assert item.published == datetime(2024, 3, 1, 6, tzinfo=UTC)


def test_json_feed():
    body = json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "title": "JSON News",
        "items": [
            {"id": "1", "url": "https://e.com/j/1?fbclid=x", "title": "One",
             "content_html": "<p>Hello <b>world</b></p>",
             "date_published": "2024-05-01T12:00:00Z", "authors": [{"name": "Bo"}]},
            {"id": 2, "external_url": "/j/2", "summary": "Two's summary", "date_modified": "2024-05-02T00:00:00"},
            {"id": "3", "content_text": "no url"},
        ],
    }).encode()
    feed = parse_feed(body, "https://e.com/feed.json", {"content-type": "application/feed+json"})
    assert feed.error is None and feed.title == "JSON News" and feed.format == "json1.1"
    one, two, three = feed.items
    assert (three.url, three.summary, three.link_problem) == ("", "no url", "no link")
    assert one.canonical_url == "e.com/j/1" and one.summary == "Hello world" and one.author == "Bo"
    assert one.published == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert two.url == "https://e.com/j/2" and two.guid == "2" and two.published == datetime(2024, 5, 2, tzinfo=UTC)


def test_bad_json_feed():
    assert parse_feed(b'{"items": [', "https://e.com/f.json").error.startswith("malformed JSON feed")
    assert parse_feed(b'{"hello": 1}', "https://e.com/f.json").error.startswith("not a feed")


NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
 <url><loc>https://e.com/business/article55.html</loc>
  <news:news><news:publication><news:name>The Example Times</news:name><news:language>en</news:language>
  </news:publication><news:publication_date>2008-12-23T10:00:00+00:00</news:publication_date>
  <news:title>Companies A, B in Merger Talks</news:title></news:news></url>
 <url><loc>https://e.com/about.html</loc><lastmod>2020-01-01</lastmod></url>
</urlset>"""


def test_google_news_sitemap():
    feed = parse_feed(NEWS_SITEMAP, "https://e.com/news-sitemap.xml")
    assert feed.error is None and feed.title == "The Example Times" and feed.format == "news-sitemap"
    (item,) = feed.items  # the plain <url> without news:news is not news
    assert item.url == "https://e.com/business/article55.html" and item.title == "Companies A, B in Merger Talks"
    assert item.published == datetime(2008, 12, 23, 10, tzinfo=UTC)


def test_sitemap_index_and_plain_sitemap_are_errors():
    index = b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>https://e.com/s1.xml' \
            b"</loc></sitemap></sitemapindex>"
    assert "sitemap index" in parse_feed(index, "https://e.com/s.xml").error
    plain = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://e.com/a</loc></url></urlset>'
    assert parse_feed(plain, "https://e.com/s.xml").error == "sitemap without news:news entries"


def test_utf8_feed_with_missing_or_wrong_charset():
    body = '<rss version="2.0"><channel><item><title>Ünïcode — “q”</title><link>http://e.com/a</link></item>' \
           "</channel></rss>"
    for content_type in ("text/xml", "application/rss+xml; charset=iso-8859-1", "text/html", ""):
        feed = parse_feed(body.encode("utf-8"), "http://e.com/f", {"content-type": content_type})
        assert feed.items[0].title == "Ünïcode — “q”", content_type


def test_latin1_feed_declared_in_its_prolog():
    body = '<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><item><title>Café</title>' \
           "<link>http://e.com/a</link></item></channel></rss>"
    for content_type in ("application/rss+xml", "text/xml; charset=utf-8"):
        feed = parse_feed(body.encode("latin-1"), "http://e.com/f", {"content-type": content_type})
        assert feed.items[0].title == "Café", content_type


def test_malformed_xml_salvages_items_or_reports_an_error():
    broken = b'<rss version="2.0"><channel><item><title>A & B</title><link>http://e.com/a</link></item><item>' \
             b"<title>unclosed"
    feed = parse_feed(broken, "http://e.com/f")
    assert [i.url for i in feed.items if i.url] == ["http://e.com/a"]
    assert parse_feed(b"<html><body>Not a feed</body></html>", "http://e.com/").error
    assert parse_feed(b"\x00\xff garbage", "http://e.com/").error
    assert parse_feed(b"", "http://e.com/").error


def _billion_laughs(root: str) -> bytes:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    return f'<?xml version="1.0"?><!DOCTYPE {root} [{entities}]>'.encode()


def test_billion_laughs_is_not_expanded():
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    body = _billion_laughs("rss") + b'<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>' \
                                    b"<link>http://e.com/a</link></item></channel></rss>"
    feed = parse_feed(body, "http://e.com/f")
    assert len(feed.title) < 100 and all(len(i.title) < 100 for i in feed.items)
    sitemap = _billion_laughs("urlset") + (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>https://e.com/a</loc><news:news>'
        b"<news:title>&lol9;</news:title></news:news></url></urlset>")
    assert all(len(i.title) < 100 for i in parse_feed(sitemap, "http://e.com/s").items)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB: no 3 GB expansion


def test_external_entities_are_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    rss = (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
           '<rss version="2.0"><channel><title>&xxe;</title><item><title>x &xxe;</title>'
           "<link>http://e.com/a</link></item></channel></rss>").encode()
    feed = parse_feed(rss, "http://e.com/f")
    assert "TOP-SECRET" not in feed.title + "".join(i.title for i in feed.items)
    sitemap = (f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file://{secret}">]>'
               '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
               'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>https://e.com/a</loc>'
               "<news:news><news:title>t &xxe;</news:title></news:news></url></urlset>").encode()
    assert all("TOP-SECRET" not in i.title for i in parse_feed(sitemap, "http://e.com/s").items)


POISON_RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>P</title>
<item><title>Good</title><link>https://e.com/good</link></item>
<item><title>Port</title><link>http://e.com:99999/x</link><guid>g-port</guid></item>
<item><title>Port abc</title><link>http://e.com:abc/x</link></item>
<item><title>IPv6</title><link>http://[::1/x</link></item>
<item><title>IDNA</title><link>http://xn--zz.example/x</link></item>
<item><title>Scheme</title><link>mailto:desk@e.com</link></item>
<item><title>GUID link</title><guid>https://e.com/from-guid</guid></item>
<item><title>Bad link, good GUID</title><link>http://e.com:99999/y</link><guid>https://e.com/via-guid</guid></item>
<item><link>http://e.com:99999/z</link></item>
<item><description></description></item>
</channel></rss>"""


def test_bad_links_are_data_not_crashes():
    feed = parse_feed(POISON_RSS, "https://e.com/feed")
    assert feed.error is None
    by_title = {i.title: i for i in feed.items}
    assert by_title["Good"].url == "https://e.com/good" and by_title["Good"].link_problem is None
    assert by_title["GUID link"].url == "https://e.com/from-guid"
    assert by_title["Bad link, good GUID"].url == "https://e.com/via-guid"  # the next candidate that works
    problems = {t: by_title[t].link_problem for t in ("Port", "Port abc", "IPv6", "IDNA", "Scheme")}
    assert problems["Port"] == "unusable link 'http://e.com:99999/x': port 99999 is out of range 1-65535"
    assert problems["Port abc"] == "unusable link 'http://e.com:abc/x': port 'abc' is not a number"
    assert problems["IPv6"] == "unusable link 'http://[::1/x': not a URL (Invalid IPv6 URL)"
    assert problems["IDNA"].startswith("unusable link 'http://xn--zz.example/x': host 'xn--zz.example' is not a "
                                       "valid international domain name")
    assert problems["Scheme"] == "unusable link 'mailto:desk@e.com': scheme 'mailto' is not one of http, https"
    assert all(by_title[t].url == "" and by_title[t].canonical_url.startswith("feed-text:") for t in problems)
    assert feed.skipped == (
        "unusable link 'http://e.com:99999/z': port 99999 is out of range 1-65535, and no title or summary to store",
        "no link, and no title or summary to store",
    )


def test_a_feed_of_only_unusable_entries_is_read_not_failed():
    body = b'<rss version="2.0"><channel><item><link>http://e.com:0/</link></item></channel></rss>'
    feed = parse_feed(body, "https://e.com/feed")
    assert feed.error is None and feed.items == [] and len(feed.skipped) == 1


def test_identity_of_an_item_without_a_link():
    def only(body: bytes, url: str = "https://e.com/feed"):
        (item,) = parse_feed(body, url).items
        return item.canonical_url

    with_guid = b'<rss version="2.0"><channel><item><title>%s</title><guid>1</guid></item></channel></rss>'
    # the GUID is the identity: a corrected title is the same item; but "1" in another feed is another item
    assert only(with_guid % b"A") == only(with_guid % b"A, corrected")
    assert only(with_guid % b"A") != only(with_guid % b"A", "https://other.example/feed")
    no_guid = b'<rss version="2.0"><channel><item><title>%s</title></item></channel></rss>'
    # without one, the text is: the same text is the same item, wherever it is read
    assert only(no_guid % b"A") == only(no_guid % b"A", "https://other.example/feed") != only(no_guid % b"B")


def test_json_feed_and_sitemap_with_bad_links():
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [
        {"id": "1", "url": "http://e.com:99999/j", "title": "Kept"}, {"id": "2", "url": "http://[::1/"}, "junk",
    ]}).encode()
    feed = parse_feed(body, "https://e.com/feed.json")
    assert [(i.title, i.link_problem) for i in feed.items] == [
        ("Kept", "unusable link 'http://e.com:99999/j': port 99999 is out of range 1-65535")]
    assert feed.skipped == ("unusable link 'http://[::1/': not a URL (Invalid IPv6 URL), and no title or summary "
                            "to store", "item is not a JSON object")
    sitemap = NEWS_SITEMAP.replace(b"https://e.com/business/article55.html", b"https://e.com:99999/a")
    (item,) = parse_feed(sitemap, "https://e.com/news-sitemap.xml").items
    assert item.title == "Companies A, B in Merger Talks" and "port 99999" in item.link_problem


def test_bytes_that_crash_feedparser_are_a_malformed_feed():
    # Found by tests/feeds/test_feed_properties.py: feedparser's loose parser raises KeyError('links').
    feed = parse_feed(b"<channel<item<link</item</link>", "http://e.com/f")
    assert feed.items == [] and feed.error == "malformed feed: the parser failed: KeyError: 'links'"


def test_impossible_characters_cost_one_character_not_the_feed():
    rss = b'<rss version="2.0"><channel><item><title>a&#xD800;b&#1114112;</title><link>http://e.com/1</link>' \
          b"</item><item><title>ok</title><link>http://e.com/2</link></item></channel></rss>"
    feed = parse_feed(rss, "http://e.com/f")
    assert [i.title for i in feed.items] == ["a\ufffdb\ufffd", "ok"]
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [
        {"id": "\ud800", "url": "http://e.com/\udc00", "title": "t\ud800", "authors": [{"name": "\ud800"}]}]})
    (item,) = parse_feed(body.encode(), "http://e.com/f.json").items  # json.dumps escapes them as \ud800
    assert "\ud800" not in item.title + item.guid + item.author + (item.link_problem or "") + item.url
    item.title.encode("utf-8")


def test_entries_with_known_guids_are_left_out_before_any_link_work():
    feed = parse_feed(RSS.encode(), "https://example.com/feed", known_guids=frozenset({"id-1"}))
    assert [i.title for i in feed.items] == ["No link", "Relative"] and feed.error is None
    everything = frozenset({"id-1", "id-2"})
    only_relative = parse_feed(RSS.encode(), "https://example.com/feed", known_guids=everything)
    assert [i.title for i in only_relative.items] == ["Relative"]  # no GUID: the store decides


def test_a_broken_feed_whose_entries_are_all_known_is_not_an_error():
    broken = b'<rss version="2.0"><channel><item><title>A & B</title><link>http://e.com/a</link>' \
             b"<guid>g-1</guid></item></channel></rss>"  # a bare "&": not well-formed XML
    assert [i.guid for i in parse_feed(broken, "http://e.com/f").items] == ["g-1"]  # salvaged
    feed = parse_feed(broken, "http://e.com/f", known_guids=frozenset({"g-1"}))
    assert feed.error is None and feed.items == []
