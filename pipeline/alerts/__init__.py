"""Alerts and digests on the channels people live in (Slack, Telegram, ntfy, webhooks, email...), through Apprise.

In: the store's tagged items and `[[channels]]`/`[alerts]`. Out: one message per (channel, alert or
digest), recorded in the store's deliveries ledger before and after sending. `channels` is the only
module that talks to Apprise; `outbox` composes, holds, summarizes and sends.
"""

from __future__ import annotations

from .outbox import (
    SendOutcome,
    alert_channels,
    compose_alert,
    deliver,
    digest_channels,
    queue_alerts,
    register_channels,
    send_due,
    send_test,
)

__all__ = ["SendOutcome", "alert_channels", "compose_alert", "deliver", "digest_channels", "queue_alerts",
           "register_channels", "send_due", "send_test"]
