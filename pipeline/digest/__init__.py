"""The digest: a day's tagged items -> one entry per story, rendered and delivered once.

In: the store and the `[digest]`/`[email]` settings. Out: files (Markdown, HTML, text, JSON, Atom)
and email, with every (topic, day, channel) delivery recorded in the store's ledger. `build`
selects a calendar day's items and ranks them, `cluster` groups one story told by several outlets,
`render`, `html`, `atom` and `common` write the formats, `deliver` and `mailer` hand them over.

A new output format goes in its own module here and is named in `render.FILE_NAMES`; a new
channel in `deliver`.
"""

from .build import due_at, due_days, window
from .deliver import deliver_due, make_digest

__all__ = ["deliver_due", "due_at", "due_days", "make_digest", "window"]
