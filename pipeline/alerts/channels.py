"""The one place that talks to Apprise: a channel's URL becomes a service, a message becomes an answer.

Apprise reports a service's failure only as a bool and a log line ("Failed to send JSON POST
notification: Internal server error., error=500."). The log line is the answer a person needs, so
each send collects the Apprise log records of its own thread: channels send on threads of their
own, and one channel's answer never ends up under another's name.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

log = logging.getLogger(__name__)

_APPRISE_LOGGER = "apprise"
_capture = threading.local()


class _ThreadCapture(logging.Handler):
    """Hands each Apprise log record to the send running on the thread that logged it."""

    def emit(self, record: logging.LogRecord) -> None:
        lines = getattr(_capture, "lines", None)
        if lines is not None and record.levelno >= logging.WARNING:
            lines.append(" ".join(record.getMessage().split()))


_handler_lock = threading.Lock()
_handler: _ThreadCapture | None = None


def _install_handler() -> None:
    global _handler
    with _handler_lock:
        if _handler is None:
            _handler = _ThreadCapture(level=logging.WARNING)
            apprise_log = logging.getLogger(_APPRISE_LOGGER)
            apprise_log.addHandler(_handler)
            # Apprise logs each failure itself at WARNING; ours says it once, with the channel's name.
            apprise_log.propagate = False
            if apprise_log.level == logging.NOTSET or apprise_log.level > logging.WARNING:
                apprise_log.setLevel(logging.WARNING)


@dataclass(frozen=True)
class Answer:
    ok: bool
    detail: str  # what the service said, one line: "delivered", or the failure

    def __str__(self) -> str:
        return self.detail


def _service(url: str):
    import apprise  # 0.3 s to import: only processes that send pay it

    return apprise.Apprise.instantiate(url, suppress_exceptions=True)


def url_problem(url: str) -> str | None:
    """Why Apprise cannot use `url` (one line, without the URL: it carries tokens), or None."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if not scheme:
        return "does not hold an Apprise URL (expected scheme://..., e.g. json://host/path or slack://...)"
    _install_handler()
    _capture.lines = []
    try:
        service = _service(url)
    finally:
        lines, _capture.lines = _capture.lines, None
    if service is None:
        why = lines[-1] if lines else "unknown scheme or missing parts"
        return f"holds a {scheme}:// URL that Apprise cannot use: {_scrub(why, url)}"
    return None


def check_channels(config) -> None:
    """Every channel's URL is one Apprise can use, or ConfigErrors naming each that is not (its
    file, line and key): called once at start-up, after the configuration is loaded."""
    from pipeline.config import channel_error
    from pipeline.errors import ConfigErrors

    errors = []
    for channel in config.channels:
        url = config.channel_urls.get(channel.name)
        if url and (problem := url_problem(url)):
            errors.append(channel_error(config, channel.name, f"channel {channel.name!r}: {channel.url_env} {problem}"))
    if errors:
        raise ConfigErrors(errors)


def describe(url: str) -> str:
    """The URL with its secrets hidden, for `channels list` (Apprise's defaults in the query left out)."""
    service = _service(url)
    return service.url(privacy=True).split("?", 1)[0] if service is not None else url.split("://", 1)[0] + "://…"


def send(url: str, title: str, body: str) -> Answer:
    """Send one message on one channel; never raises for the service's failure."""
    _install_handler()
    _capture.lines = []
    try:
        service = _service(url)
        if service is None:
            return Answer(False, "Apprise cannot use this channel's URL")
        try:
            ok = bool(service.notify(body=body, title=title))
        except Exception as exc:  # a plugin's own bug must cost this message, not the cycle
            return Answer(False, f"{type(exc).__name__}: {exc}")
        lines = list(_capture.lines)
    finally:
        _capture.lines = None
    if ok:
        return Answer(True, "delivered")
    return Answer(False, _scrub("; ".join(dict.fromkeys(lines)) or "the service did not accept the message", url))


def _scrub(text: str, url: str) -> str:
    """Apprise's messages may quote the URL; its user and password parts never reach a log or status."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        secrets = [p for p in (parts.password, parts.username) if p and len(p) > 3]
    except ValueError:
        secrets = []
    for secret in secrets:
        text = text.replace(secret, "…")
    return text
