"""The reading room: the store as web pages, and the reader's feedback back into it.

In: a loaded `Context` (configuration, sources, tagger) and the store the service writes. Out:
server-side rendered HTML that works without JavaScript (`/`, `/days/`, `/days/YYYY-MM-DD`,
`/search`, `/items/ID`, `/sources`), a rolling Atom feed per topic, and feedback rows ("not
relevant", "relevant (missed)", a star) written through the store. `app` holds the routes and
turns the digest's model, `explain` and the feed status into pages; `security` the host,
size, password and CSRF checks every request and form passes and the headers on every response;
`server` the time limits on connections (uvicorn); `marks` the evidence marked in text.

Nothing here groups, ranks, tags or queries on its own: it asks `digest`, `topics`, `service`
and `store`. A new page is a route in `app` and a template in `templates/`.
"""

from .app import create_app, serve

__all__ = ["create_app", "serve"]
