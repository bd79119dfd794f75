"""Known entries cut from a feed body before feedparser reads it (`feeds.prune`) change nothing but
the cost: on generated feeds full of the cases that change feedparser's reading (bases, permalink
flags, relative and odd ids, namespaces, comments, nested identities, charsets) and on every feed
fixture in the tests, the demo site and the polling bench, `parse_feed` gives the same ParsedFeed
with pruning as feedparser reading the whole body."""

from __future__ import annotations

import ast
import codecs
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser
import pytest
from fuzzing import bounded
from hypothesis import given
from hypothesis import strategies as st

from bench.polling import feed_body
from pipeline.demo.site import build_site
from pipeline.feeds import parse_feed
from pipeline.feeds.prune import without_known

TESTS = Path(__file__).resolve().parent.parent
URL = "https://news.example/feed.xml"
HEADERS = [{}, {"content-type": "application/rss+xml; charset=utf-8"}, {"content-type": "text/xml"},
           {"content-type": "application/xml; charset=iso-8859-1"}, {"content-type": "text/html; charset=UTF-8"},
           {"content-type": "application/atom+xml", "content-location": "https://elsewhere.example/dir/"},
           {"etag": '"v1"'}]  # a server that sends no Content-Type: feedparser then reads ISO-8859-1


def reference_ids(body: bytes, headers: dict[str, str]) -> list[str]:
    """The ids of the entries of the whole body: what the store would hold as known."""
    items = parse_feed(body, URL, headers, prune=False).items
    try:
        entries = feedparser.parse(body, response_headers=headers).entries
    except Exception:  # bytes feedparser cannot read at all: parse_feed reports those as malformed
        entries = []
    return list(dict.fromkeys([i.guid for i in items if i.guid] + [e["id"] for e in entries if e.get("id")]))


def assert_same_reading(body: bytes, headers: dict[str, str], known: frozenset[str]) -> None:
    pruned = parse_feed(body, URL, headers, known)
    whole = parse_feed(body, URL, headers, known, prune=False)
    assert pruned == whole, body


# -- generated feeds -------------------------------------------------------------------------------

ids = st.one_of(
    st.sampled_from(["id-1", "id-2", "urn:uuid:7c1a", "https://news.example/a/1", "http://news.example/a/1",
                     "/relative/1", "relative/2", "http:///triple", "HTTP://NEWS.EXAMPLE/A", "  padded  ",
                     "a b", "a&amp;b", "a&lt;b", "ü-1", "tab\there", "x" * 80, "", "?q=1", "#frag", "//host/p",
                     "mailto:x@y", "https://news.example/a/1?utm_source=rss"]),
    st.text(st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="<&"), min_size=1, max_size=12),
)
def mostly(plain: list, unusual: list) -> st.SearchStrategy:
    """Usually a plain value, so that most documents are ones pruning works on, sometimes one of the
    unusual values that change how feedparser reads the document or the entry."""
    return st.one_of(st.sampled_from(plain), st.sampled_from(plain), st.sampled_from(plain), st.sampled_from(unusual))


GUID_ATTRS = mostly(["", ' isPermaLink="true"', ' isPermaLink="false"'],
                    [' isPermaLink="TRUE"', ' isPermaLink=""', ' ispermalink="false"', ' lang="en"',
                     ' xml:base="https://base.example/x/"', ' base="https://base.example/y/"'])
EXTRAS = mostly(["<title>T &amp; U</title>", "<link>https://news.example/l/1</link>", "<link>/relative/link</link>",
                 "<description><![CDATA[<p>Body <b>bold</b></p>]]></description>",
                 "<pubDate>Wed, 01 Jan 2025 12:00:00 GMT</pubDate>", "<dc:creator>Ann</dc:creator>",
                 "<category>c</category>", '<enclosure url="https://e.example/a.mp3"/>',
                 "<author>a@example.com (Ann)</author>", "<description>Caf\u00e9 &#233; &lt;b&gt;</description>"],
                ["<!-- a comment -->", "<?pi data?>", "<foo>unknown</foo>", "<dc:identifier>dc-1</dc:identifier>",
                 '<media:thumbnail xmlns:media="http://search.yahoo.com/mrss/" url="https://i.example/1.jpg"/>',
                 '<source url="https://other.example/feed">Other</source>', "<atom:id>atom-in-rss</atom:id>",
                 "<channel><title>inner</title></channel>", "<item><guid>nested</guid><title>nested</title></item>"])
ATOM_EXTRAS = mostly(["<title>T</title>", '<link href="https://news.example/l/1"/>', '<link href="rel/1"/>',
                      "<updated>2025-01-01T12:00:00Z</updated>", "<summary>S &amp; T</summary>",
                      "<author><name>Ann</name><email>a@example.com</email></author>", '<category term="c"/>'],
                     ["<!-- c -->", "<source><id>source-id</id><title>S</title></source>", "<entry><id>n</id></entry>",
                      '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div></content>'])

rss_item = st.fixed_dictionaries({
    "id": st.one_of(st.none(), ids, ids, ids, ids), "id_attrs": GUID_ATTRS,
    "second_id": st.one_of(st.none(), st.none(), ids),
    "extras": st.lists(EXTRAS, max_size=4), "attrs": mostly([""], [' rdf:about="ra-1"', ' xml:lang="fr"']),
    "cdata": st.booleans(),
})
atom_entry = st.fixed_dictionaries({
    "id": st.one_of(st.none(), ids, ids, ids, ids), "id_attrs": mostly([""], [' xml:base="https://base.example/x/"']),
    "second_id": st.one_of(st.none(), st.none(), ids), "extras": st.lists(ATOM_EXTRAS, max_size=4),
    "attrs": mostly([""], [' xml:lang="fr"', ' xml:base="https://base.example/e/"']), "cdata": st.booleans(),
})
prologs = mostly(['<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0" encoding="UTF-8"?>', "",
                  '<?xml version="1.0"?>'],
                 ['\ufeff<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.1" encoding="utf-8"?>',
                  '<?xml version="1.0" encoding="iso-8859-1"?>',
                  '<?xml version="1.0" encoding="utf-8"?><!DOCTYPE rss [<!ENTITY e "entity">]>',
                  '<?xml version="1.0" encoding="utf-8"?><?xml-stylesheet href="s.xsl"?>'])
root_attrs = mostly(["", ' xmlns:dc="http://purl.org/dc/elements/1.1/"', ' xml:lang="en"'],
                    [' xml:base="https://base.example/root/"', ' base="https://base.example/r/"'])
channel_attrs = mostly([""], [' xml:base="https://base.example/c/"', ' base="https://b.example/"'])
headers = mostly([0, 1], [2, 3, 4, 5, 6]).map(lambda i: HEADERS[i])
# Feed-level elements after the entries: feedparser's reading of them depends on state the entries
# before them leave (the depth of the last entry title seen, for one).
tails = mostly([""], ["<title>Late title</title>", "<ttl>15</ttl>", "<description>After</description>",
                      "<image><title>Img</title><url>https://i.example/l.png</url><link>https://n.example/</link></image>",
                      "<subtitle>S</subtitle>", "<updated>2025-01-01T00:00:00Z</updated>"])


def identity(e: dict, tag: str) -> str:
    text = f"<![CDATA[{e['id']}]]>" if e["cdata"] and e["id"] is not None and "]]>" not in e["id"] else e["id"]
    first = f"<{tag}{e['id_attrs']}>{text}</{tag}>" if e["id"] is not None else ""
    second = f"<{tag}>{escape(e['second_id'])}</{tag}>" if e["second_id"] is not None else ""
    return first + second


def rss(items: list[dict], prolog: str, attrs: str, channel_attrs: str, title: str, tail: str = "") -> str:
    body = "".join(f"<item{e['attrs']}>{''.join(e['extras'][:2])}{identity(e, 'guid')}{''.join(e['extras'][2:])}"
                   "</item>" for e in items)
    dc = "" if "xmlns:dc" in attrs else ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
    return (f'{prolog}<rss version="2.0"{attrs}{dc} xmlns:atom="http://www.w3.org/2005/Atom" '
            f'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><channel{channel_attrs}>'
            f"<title>{escape(title)}</title><ttl>30</ttl>{body}{tail}</channel></rss>")


def atom(items: list[dict], prolog: str, attrs: str, title: str, tail: str = "") -> str:
    attrs = attrs.replace("xmlns:dc", "xmlns:d")
    body = "".join(f"<entry{e['attrs']}>{''.join(e['extras'][:2])}{identity(e, 'id')}{''.join(e['extras'][2:])}"
                   "</entry>" for e in items)
    return f'{prolog}<feed xmlns="http://www.w3.org/2005/Atom"{attrs}><title>{escape(title)}</title>{body}{tail}</feed>'


@bounded(400)
@given(st.data(), st.sampled_from(["rss", "atom"]), st.lists(rss_item, min_size=1, max_size=6),
       st.lists(atom_entry, min_size=1, max_size=6), prologs, root_attrs, channel_attrs,
       st.sampled_from(["Feed", "Fëed ü", "A &amp; B"]), headers, st.booleans(), tails)
def test_pruning_reads_generated_feeds_as_feedparser_reads_the_whole(data, kind, rss_items, atom_entries, prolog,
                                                                      attrs, channel_attrs, title, headers, latin,
                                                                      tail):
    if kind == "rss":
        text = rss(rss_items, prolog, attrs, channel_attrs, title, tail)
    else:
        text = atom(atom_entries, prolog, attrs, title, tail)
    body = text.encode("latin-1", "replace") if latin and "iso-8859-1" in prolog else text.encode()
    if prolog.startswith("\ufeff"):
        body = codecs.BOM_UTF8 + body[3:]
    reference = reference_ids(body, headers)
    known = data.draw(st.sets(st.sampled_from(reference), min_size=1) if reference else st.just(set()))
    known |= data.draw(st.sets(ids, max_size=2))
    assert_same_reading(body, headers, frozenset(known))


# -- every fixture ---------------------------------------------------------------------------------

def fixture_feeds() -> list[tuple[str, bytes]]:
    """Every feed document written in the tests as a literal, every feed of the demo site, and the
    polling bench's feed."""
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
                value = node.value.encode("utf-8", "surrogatepass") if isinstance(node.value, str) else node.value
                feed_like = any(marker in value for marker in (b"<rss", b"<feed", b"<rdf:RDF"))
                if feed_like and value.lstrip().startswith(b"<"):
                    found.append((f"{path.relative_to(TESTS)}:{node.lineno}", value))
    for path, (_, body) in sorted(build_site("http://127.0.0.1:8000").items()):
        if path.endswith("feed.xml"):
            found.append((f"demo{path}", body))
    found.append(("bench feed", feed_body(7, "127.0.0.1", 8000, 3)))
    return found


FIXTURES = fixture_feeds()


def test_fixtures_are_found():
    names = {name.split(":")[0] for name, _ in FIXTURES}
    assert {"feeds/test_feeds.py", "bench feed"} <= names and sum(n.startswith("demo/") for n in names) >= 3
    assert len(FIXTURES) >= 20


@pytest.mark.parametrize("name,body", FIXTURES, ids=[name for name, _ in FIXTURES])
def test_pruning_reads_every_fixture_as_feedparser_reads_the_whole(name, body):
    for headers in HEADERS:
        reference = reference_ids(body, headers)
        for known in (reference, reference[::2], reference[1:2], ["unrelated"]):
            assert_same_reading(body, headers, frozenset(known))


# -- that it prunes at all -------------------------------------------------------------------------

def test_known_entries_never_reach_feedparser():
    body = feed_body(1, "127.0.0.1", 8000, 1)
    headers = {"content-type": "application/rss+xml; charset=utf-8"}
    earlier = frozenset(reference_ids(feed_body(1, "127.0.0.1", 8000, 0), headers))
    reduced, removed = without_known(body, headers, earlier)
    assert removed == 19 and len(feedparser.parse(reduced).entries) == 1
    assert [i.guid for i in parse_feed(body, URL, headers, earlier).items] == ["feed-1-item-20"]


def test_demo_feeds_are_pruned_in_both_formats():
    for path, (content_type, body) in build_site("http://127.0.0.1:8000").items():
        if path.endswith("feed.xml"):
            headers = {"content-type": content_type}
            reference = reference_ids(body, headers)
            assert without_known(body, headers, frozenset(reference))[1] == len(reference), path


@pytest.mark.parametrize("why,body,headers", [
    ("a base URI", b'<rss version="2.0"><channel xml:base="https://b.example/"><item><guid>x</guid></item>'
                   b"</channel></rss>", {}),
    ("a charset the body does not declare", b'<rss version="2.0"><channel><item><guid>x</guid></item></channel>'
                                            b"</rss>", {"content-type": "text/xml; charset=windows-1251"}),
    ("a namespace declared inside an entry", b'<rss version="2.0"><channel><item><guid>x</guid>'
                                             b'<m:t xmlns:m="urn:m"/></item></channel></rss>', {}),
    ("not well-formed", b'<rss version="2.0"><channel><item><guid>x</guid><title>A & B</title></item></channel>'
                        b"</rss>", {}),
    ("a feed-level element after the entries", b'<rss version="2.0"><channel><title>F</title><item><guid>x</guid>'
                                               b"</item><title>Late</title></channel></rss>", {}),
    ("a comment in the entry", b'<rss version="2.0"><channel><item><guid>x</guid><!-- c --></item></channel>'
                               b"</rss>", {}),
])
def test_documents_whose_reading_cannot_be_predicted_go_to_feedparser_whole(why, body, headers):
    known = frozenset(reference_ids(body, headers)) | {"x"}
    assert without_known(body, headers, known) is None, why
    assert parse_feed(body, URL, headers, known).items == []  # feedparser still leaves it out
