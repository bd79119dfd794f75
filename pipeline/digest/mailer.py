"""Build the digest email and hand it to an SMTP server; nothing here knows about retries or records.

The password is read from the environment variable named in config, never from config.toml.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from pipeline.config import EmailSection

from .build import Digest
from .common import plural


class MailError(Exception):
    """The server did not take the message; the text is one line for the digests table."""


def message_id(topic: str, day: str, kind: str, sender: str) -> str:
    """Stable per (topic, day, kind): a resend carries the same id, so mail clients can tell it is one."""
    domain = "".join(c for c in sender.rpartition("@")[2] if c.isalnum() or c in "-.") if "@" in sender else ""
    domain = domain or "localhost"
    safe_topic = "".join(c if c.isalnum() or c in "-_." else "_" for c in topic)
    return f"<newswatch.{safe_topic}.{day}.{kind}@{domain}>"


def subject(digest: Digest, *, resend: bool = False) -> str:
    counts = "nothing today" if digest.empty else \
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


def send(message: EmailMessage, settings: EmailSection, *, context: ssl.SSLContext | None = None) -> dict:
    """Deliver to every recipient; returns the recipients the server refused (others were accepted).

    Raises MailError when the server took the message for nobody.
    """
    if not settings.recipients:
        raise MailError("no recipients configured in [email] recipients")
    context = context or ssl.create_default_context()
    try:
        if settings.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                                    context=context)
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"cannot connect to {settings.host}:{settings.port}: {_describe(exc)}") from exc
    try:
        if settings.security == "starttls":
            client.starttls(context=context)
        if settings.username:
            client.login(settings.username, _password(settings))
        refused = client.send_message(message, from_addr=settings.sender, to_addrs=list(settings.recipients))
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"{settings.host}:{settings.port}: {_describe(exc)}") from exc
    finally:
        _quit(client)
    return refused


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
