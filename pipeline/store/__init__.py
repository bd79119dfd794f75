"""The store: the schema and every query. No other package writes SQL.

In and out: the dataclasses of `pipeline.models` (`FeedItem`, `Article`, `Tag`) and the small
records defined here (`PendingEntry`, `FeedState`, `TaggedItem`, `EntryProblems`). The entries table is the durable
work queue: an entry stays pending until the transaction that stores its article and tags marks it
done. `sqlite` is the embedded backend on sqlite-utils.

A second backend sits beside `sqlite` as its own module with the same public methods, chosen by
`[storage]` in the configuration.
"""

from .sqlite import (
    SCHEMA_VERSION,
    EntryProblems,
    FeedState,
    PendingEntry,
    QueueActivity,
    Store,
    TaggedItem,
    iso,
    parse_iso,
    utcnow,
)

__all__ = ["SCHEMA_VERSION", "EntryProblems", "FeedState", "PendingEntry", "QueueActivity", "Store", "TaggedItem",
           "iso", "parse_iso", "utcnow"]
