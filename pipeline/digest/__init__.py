"""The digest: a day's tagged items -> one entry per story, rendered and delivered once.

In: the store and the `[digest]`/`[email]` settings. Out: files (Markdown, HTML, text, JSON, Atom)
and email, with every (topic, day, channel) delivery recorded in the store's ledger. `days` says
which day an item belongs to and when each digest is due, `build` selects a day's items and ranks
them, `cluster` groups one story told by several outlets, `render`, `html`, `atom` and `common`
write the formats, `deliver` and `mailer` hand them over.

A new output format goes in its own module here and is named in `render.FILE_NAMES`; a new
channel in `deliver`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.lazy import lazy_names

# Each name is imported from its module on first use: a command needs one or two of them, not the
# HTTP client, extractor and scheduler the others bring (start-up time, issue 23).
_MODULE_OF = {
    "due_at": "days",
    "due_days": "days",
    "window": "days",
    "deliver_due": "deliver",
    "make_digest": "deliver",
}

if TYPE_CHECKING:
    from .days import due_at, due_days, window
    from .deliver import deliver_due, make_digest


__getattr__, __dir__ = lazy_names(__name__, _MODULE_OF)


__all__ = ["deliver_due", "due_at", "due_days", "make_digest", "window"]
