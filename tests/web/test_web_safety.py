"""The reading room's safety: bind and password, CSRF on every POST, feed text never markup."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from web_helpers import http_client, http_get, http_post, serving

from pipeline.cli import main
from pipeline.context import load_context
from pipeline.models import Article, FeedItem
from pipeline.store import Store


def _set_web(config, body: str) -> None:
    config.write_text(config.read_text(encoding="utf-8") + f"\n[web]\n{body}\n", encoding="utf-8")


def test_refuses_a_public_bind_without_a_password(demo_copy, capsys, monkeypatch):
    config = demo_copy / "config.toml"
    assert main(["serve", "--config", str(config), "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "web.password_env" in err and "0.0.0.0 needs a password" in err
    _set_web(config, 'password_env = "NW_TEST_WEB_PASSWORD"')
    monkeypatch.delenv("NW_TEST_WEB_PASSWORD", raising=False)
    assert main(["serve", "--config", str(config), "--host", "0.0.0.0"]) == 2
    assert "NW_TEST_WEB_PASSWORD is not set" in capsys.readouterr().err


def test_a_password_means_basic_auth_on_every_page(demo_copy):
    config = demo_copy / "config.toml"
    _set_web(config, 'username = "reader"\npassword_env = "NW_TEST_WEB_PASSWORD"')
    env = {"NW_TEST_WEB_PASSWORD": "correct horse"}
    with serving(config, env=env, auth=("reader", "correct horse")) as base:
        for path in ("/", "/sources", "/static/style.css", "/items/1"):
            assert http_get(base + path).status_code == 401, path
        assert http_get(base + "/", auth=("reader", "wrong")).status_code == 401
        assert http_get(base + "/", auth=("someone", "correct horse")).status_code == 401
        ok = http_get(base + "/", auth=("reader", "correct horse"))
        assert ok.status_code == 200 and "Reported earlier" in ok.text  # the demo's stories are from 2023-24


def test_feedback_posts_need_the_csrf_token_and_our_origin(demo_copy):
    with serving(demo_copy / "config.toml") as base, http_client(base_url=base) as client:
        page = client.get("/items/1")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        form = {"topic": "us-china-milcomm", "action": "star"}
        assert client.post("/items/1/feedback", data=form).status_code == 403  # no token
        assert client.post("/items/1/feedback", data={**form, "csrf": "x" * 43}).status_code == 403
        foreign = client.post("/items/1/feedback", data={**form, "csrf": token},
                              headers={"Origin": "http://evil.example"})
        assert foreign.status_code == 403
        fresh = http_post(base + "/items/1/feedback", data={**form, "csrf": token})  # token without its cookie
        assert fresh.status_code == 403
        with Store(demo_copy / "newswatch.db") as store:
            assert store.feedback(1) == []
        done = client.post("/items/1/feedback", data={**form, "csrf": token})
        assert done.status_code == 303 and done.headers["location"] == "/items/1"
    with Store(demo_copy / "newswatch.db") as store:
        assert [f["starred"] for f in store.feedback(1)] == [1]


HOSTILE_TITLE = 'Hotline <script>alert("t")</script> restored'
HOSTILE_TEXT = ('The United States and China restored the military hotline between their defense ministries, '
                'officials said <img src=x onerror="alert(1)"> on Monday.\n\n'
                'Defense Secretary Austin held a call with his Chinese counterpart Dong Jun <b onclick=x>today</b>.')


def test_feed_text_is_escaped_and_only_http_links_are_rendered(demo_copy):
    ctx = load_context(demo_copy / "config.toml")
    tags = ctx.tagger.tag(HOSTILE_TITLE, HOSTILE_TEXT, "en")
    assert tags, "the hostile item must be tagged to reach the day page"
    with Store(demo_copy / "newswatch.db") as store:
        feed_id = store.feeds()[0]["id"]
        item = FeedItem(url="javascript:alert(1)", canonical_url="javascript:alert(1)", guid=None,
                        title=HOSTILE_TITLE, summary="", published=None)
        store.bulk_insert_items([(item, Article(title=HOSTILE_TITLE, text=HOSTILE_TEXT, language="en"), tags,
                                  datetime.now(UTC))], feed_id, "Dnipro Daily")
        entry_id = store.db.execute("SELECT max(id) FROM entries").fetchone()[0]
    with serving(demo_copy / "config.toml") as base:
        for path in ("/", f"/items/{entry_id}", "/search?q=hotline"):
            html = http_get(base + path).text
            assert "Hotline &lt;script&gt;" in html, path
            # Our one script element is the static keys.js; the feed's never gets through.
            assert html.count("<script") == 1 and '<script src="/static/keys.js" defer></script>' in html, path
            assert "<img" not in html and "<b onclick" not in html, path
            assert "javascript:" not in html, path
        item_page = http_get(base + f"/items/{entry_id}").text
        assert "No http(s) link to the original." in item_page


def test_pages_answer_while_another_process_holds_the_write_lock(demo_copy):
    """The service writes while the reading room reads: WAL readers never wait for the writer."""
    import sqlite3

    with serving(demo_copy / "config.toml") as base:
        writer = sqlite3.connect(demo_copy / "newswatch.db", isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE feeds SET items_seen = items_seen + 1")
        try:
            for path in ("/", "/search?q=hotline", "/items/1", "/sources", "/days/"):
                assert http_get(base + path).status_code == 200, path
        finally:
            writer.execute("ROLLBACK")
            writer.close()
