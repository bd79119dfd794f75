"""Build the digest email and hand it to an SMTP server; nothing here knows about retries or records.

The password is read from the environment variable named in config, never from config.toml.

`[email] timeout` bounds the whole send, not just each socket operation: a server that answers a
byte at a time (a tarpit) never lets a single read time out, so a timer shuts the socket down when
the time is up and the blocked read returns.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
import threading
from contextlib import suppress
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from pipeline.config import EmailSection

from .build import Digest
from .common import plural


class MailError(Exception):
    """The server did not take the message; the text is one line for the digests table.

    `refused` holds the recipients the server turned away ({address: (code, reply)}) when it
    refused every one of them."""

    def __init__(self, text: str, refused: dict[str, tuple[int, bytes]] | None = None):
        super().__init__(text)
        self.refused = refused or {}


def message_id(topic: str, day: str, kind: str, sender: str) -> str:
    """Stable per (topic, day, kind): a resend carries the same id, so mail clients can tell it is one."""
    domain = "".join(c for c in sender.rpartition("@")[2] if c.isalnum() or c in "-.") if "@" in sender else ""
    domain = domain or "localhost"
    safe_topic = "".join(c if c.isalnum() or c in "-_." else "_" for c in topic)
    return f"<newswatch.{safe_topic}.{day}.{kind}@{domain}>"


def subject(digest: Digest, *, resend: bool = False) -> str:
    counts = ("nothing today" if digest.covers_today else "nothing") if digest.empty else \
        f"{plural(len(digest.stories), 'story', 'stories')}, {plural(len(digest.mentions), 'mention')}"
    return f"{'[resent] ' if resend else ''}{digest.title} ({counts})"


def build_message(digest: Digest, text: str, html: str, settings: EmailSection, msg_id: str, *,
                  resend: bool = False) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject(digest, resend=resend)
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Date"] = format_datetime(digest.generated_at)
    message["Message-ID"] = msg_id
    message["X-Newswatch-Digest"] = f"{digest.topic} {digest.start.isoformat()} {digest.kind}"
    if resend:
        # Same Message-ID as the first send; the header says why the copy exists.
        message["X-Newswatch-Resend"] = "yes"
        message["X-Newswatch-Resend-Id"] = make_msgid(domain=msg_id.rpartition("@")[2].rstrip(">"))
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def _password(settings: EmailSection) -> str:
    password = os.environ.get(settings.password_env)
    if password is None:
        raise MailError(f"the SMTP password is not set: export {settings.password_env}")
    return password


def send(message: EmailMessage, settings: EmailSection, *, context: ssl.SSLContext | None = None,
         to: list[str] | None = None) -> dict:
    """Deliver to `to` (default: every configured recipient); returns the recipients the server
    refused, {address: (code, reply)} (the others were accepted).

    Raises MailError when the server took the message for nobody, or when the whole exchange did
    not finish within `settings.timeout` seconds.
    """
    recipients = list(settings.recipients) if to is None else list(to)
    if not recipients:
        raise MailError("no recipients configured in [email] recipients")
    context = context or ssl.create_default_context()
    # Built unconnected, so the deadline covers the greeting too.
    client: smtplib.SMTP = (smtplib.SMTP_SSL(timeout=settings.timeout, context=context)
                            if settings.security == "tls" else smtplib.SMTP(timeout=settings.timeout))
    client._host = settings.host  # what the constructor would keep: TLS checks the certificate against it
    deadline = _Deadline(client, settings.timeout)
    try:
        try:
            client.connect(settings.host, settings.port)
        except (OSError, smtplib.SMTPException) as exc:
            client.close()
            raise MailError(f"cannot connect to {settings.host}:{settings.port}: "
                            f"{deadline.describe(exc)}") from exc
        try:
            if settings.security == "starttls":
                client.starttls(context=context)
            if settings.username:
                client.login(settings.username, _password(settings))
            refused = client.send_message(message, from_addr=settings.sender, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailError(f"{settings.host}:{settings.port}: {_describe(exc)}", refused=exc.recipients) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"{settings.host}:{settings.port}: {deadline.describe(exc)}") from exc
        finally:
            _quit(client)
    finally:
        deadline.cancel()
    return refused


class _Deadline:
    """Shuts the client's socket down once `seconds` have passed since it was made."""

    def __init__(self, client: smtplib.SMTP, seconds: float):
        self.client, self.seconds, self.expired = client, seconds, False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        self.expired = True
        sock = getattr(self.client, "sock", None)  # after STARTTLS, the TLS socket on the same descriptor
        if sock is not None:
            with suppress(OSError):  # already closed: the send is over anyway
                sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()

    def describe(self, exc: BaseException) -> str:
        if self.expired:
            return f"the server did not finish the exchange within {self.seconds:g} s (timeout)"
        return _describe(exc)


def _quit(client: smtplib.SMTP) -> None:
    # The message is already accepted when QUIT fails; reporting that as a failure would send it twice.
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {' '.join(error.split())}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "every recipient was refused: " + ", ".join(exc.recipients)
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}" if str(exc) else type(exc).__name__
