"""Alerts and digests on the channels people live in (Slack, Telegram, ntfy, webhooks, email...), through Apprise.

In: the store's tagged items, the digest, and `[[channels]]`/`[alerts]`. Out: one message per
(channel, alert or digest), recorded in the store's deliveries ledger before and after sending.
`channels` is the only module that talks to Apprise; `outbox` composes alerts, holds and
summarizes them, and sends everything; `digests` decides which digests each channel is owed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.lazy import lazy_names

# Imported on first use, as in pipeline.digest: `status` needs the outbox's reports, not numpy and
# the digest builder that alerts and digests bring (start-up time, issue 23).
_MODULE_OF = {
    "check_channels": "channels",
    "deliver_digests": "digests",
    "SendOutcome": "outbox",
    "compose_alert": "outbox",
    "queue_alerts": "outbox",
    "register_channels": "outbox",
    "send_due": "outbox",
    "send_test": "outbox",
}

if TYPE_CHECKING:
    from .channels import check_channels
    from .digests import deliver_digests
    from .outbox import SendOutcome, compose_alert, queue_alerts, register_channels, send_due, send_test


__getattr__, __dir__ = lazy_names(__name__, _MODULE_OF)


__all__ = ["SendOutcome", "check_channels", "compose_alert", "deliver_digests", "queue_alerts", "register_channels",
           "send_due", "send_test"]
