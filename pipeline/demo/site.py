"""The demo's news sites: the sample stories served over HTTP on 127.0.0.1."""

from __future__ import annotations

import threading
import tomllib
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

from .layouts import PAGE_LAYOUTS, Outlet, Story, atom_feed, rss_feed, section_front

ROBOTS = b"User-agent: *\nDisallow: /private/\n"


def load_stories() -> tuple[dict[str, Outlet], list[Story]]:
    data = tomllib.loads(resources.files(__package__).joinpath("stories.toml").read_text(encoding="utf-8"))
    outlets = {o["slug"]: Outlet(**o) for o in data["outlets"]}
    stories = [
        Story(outlet=s["outlet"], slug=s["slug"], title=s["title"],
              published=datetime.fromisoformat(s["published"]), author=s["author"], body=tuple(s["body"]),
              topic=s.get("topic", False), category=s.get("category", ""))
        for s in data["stories"]
    ]
    return outlets, stories


def build_site(base: str) -> dict[str, tuple[str, bytes]]:
    """Every path the demo serves, with its content type and body."""
    outlets, stories = load_stories()
    pages: dict[str, tuple[str, bytes]] = {"/robots.txt": ("text/plain", ROBOTS)}
    for outlet in outlets.values():
        own = sorted((s for s in stories if s.outlet == outlet.slug), key=lambda s: s.published, reverse=True)
        render = PAGE_LAYOUTS[outlet.layout]
        for story in own:
            others = [s for s in own if s is not story]
            pages[story.path()] = ("text/html; charset=utf-8", render(story, outlet, others, base).encode())
        pages[f"/{outlet.slug}/"] = ("text/html; charset=utf-8", section_front(outlet, own).encode())
        if outlet.layout == "wire":
            pages[f"/{outlet.slug}/feed.xml"] = ("application/atom+xml", atom_feed(outlet, own, base).encode())
        else:
            pages[f"/{outlet.slug}/feed.xml"] = ("application/rss+xml", rss_feed(outlet, own, base).encode())
    return pages


class DemoSite:
    """``with DemoSite() as site: site.base`` serves the sample outlets until the block ends."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        pages: dict[str, tuple[str, bytes]] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = pages.get(self.path.split("?", 1)[0])
                if found is None:
                    self.send_error(404)
                    return
                content_type, body = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.base = f"http://{host}:{self.server.server_address[1]}"
        pages.update(build_site(self.base))
        self.pages = pages
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> DemoSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
