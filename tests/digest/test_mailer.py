"""The SMTP client against a real aiosmtpd server: plain, STARTTLS, implicit TLS, login, refusals."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import threading
from datetime import date

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from digest_helpers import TOPIC, Inbox, free_port, parts, utc
from waiting import wait_for

from pipeline.config import EmailSection
from pipeline.digest.build import Digest
from pipeline.digest.mailer import MailError, build_message, message_id, send

DIGEST = Digest(topic=TOPIC, kind="daily", start=date(2024, 3, 12), days=1, timezone="Europe/Kyiv",
                generated_at=utc(2024, 3, 13, 5), stories=(), mentions=(), failing=(), items=0, capped=0)


def settings(port: int, **values) -> EmailSection:
    base = {"enabled": True, "host": "127.0.0.1", "port": port, "security": "none",
            "sender": "digest@newswatch.example", "recipients": ["ana@example.org", "bo@example.org"], "timeout": 5}
    return EmailSection(**{**base, **values})


def message(config: EmailSection, **kwargs):
    msg_id = message_id(TOPIC, "2024-03-12", "daily", config.sender)
    return build_message(DIGEST, "plain body", "<p>html body</p>", config, msg_id, **kwargs)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(folder / "key.pem"),
         "-out", str(folder / "cert.pem")],
        check=True, capture_output=True,
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client = ssl.create_default_context(cafile=str(folder / "cert.pem"))
    return server, client


def accept_secret(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = auth_data.login == b"digest" and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


def serve(inbox: Inbox, port: int, **kwargs) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller


def test_message_id_is_stable_and_uses_the_sender_domain():
    assert message_id(TOPIC, "2024-03-12", "daily", "digest@news.example") == \
        "<newswatch.us-china-milcomm.2024-03-12.daily@news.example>"
    assert message_id("a b/c", "2024-03-12", "weekly", "x") == "<newswatch.a_b_c.2024-03-12.weekly@localhost>"


def test_message_is_multipart_alternative_to_every_recipient():
    config = settings(25)
    msg = message(config)
    assert msg.get_content_type() == "multipart/alternative"
    assert parts(msg) == {"text/plain": "plain body\n", "text/html": "<p>html body</p>\n"}
    assert msg["To"] == "ana@example.org, bo@example.org"
    # The digest of a past day (12 March 2024, sent later): "nothing", never "nothing today".
    assert msg["Subject"].endswith("(nothing)")
    assert msg["X-Newswatch-Resend"] is None
    assert message(config, resend=True)["X-Newswatch-Resend"] == "yes"


def test_starttls_with_login_password_from_environment(certificate, monkeypatch):
    server_tls, client_tls = certificate
    port, inbox = free_port(), Inbox()
    controller = serve(inbox, port, tls_context=server_tls, require_starttls=True, authenticator=accept_secret,
                       auth_require_tls=True, auth_exclude_mechanism=["LOGIN"])
    try:
        config = settings(port, security="starttls", username="digest", password_env="NW_TEST_PW")
        monkeypatch.setenv("NW_TEST_PW", "s3cret")
        assert send(message(config), config, context=client_tls) == {}
        monkeypatch.setenv("NW_TEST_PW", "wrong")
        with pytest.raises(MailError, match="535"):
            send(message(config), config, context=client_tls)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1 and inbox.messages[0][0] == ["ana@example.org", "bo@example.org"]


def test_implicit_tls(certificate):
    server_tls, client_tls = certificate
    port, inbox = free_port(), Inbox()
    controller = serve(inbox, port, ssl_context=server_tls)
    try:
        config = settings(port, security="tls")
        send(message(config), config, context=client_tls)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1


def test_untrusted_certificate_is_refused(certificate):
    server_tls, _ = certificate
    port, inbox = free_port(), Inbox()
    controller = serve(inbox, port, ssl_context=server_tls)
    try:
        config = settings(port, security="tls")
        with pytest.raises(MailError, match="CERTIFICATE_VERIFY_FAILED"):
            send(message(config), config)
    finally:
        controller.stop()
    assert inbox.messages == []


class PickyInbox(Inbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # aiosmtpd's hook name
        if address.startswith("bo@"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_refused_recipient_is_reported_and_the_others_get_it():
    port, inbox = free_port(), PickyInbox()
    controller = serve(inbox, port)
    try:
        config = settings(port)
        refused = send(message(config), config)
    finally:
        controller.stop()
    assert list(refused) == ["bo@example.org"]
    assert inbox.messages[0][0] == ["ana@example.org"]


def test_nobody_listening_is_a_mail_error():
    config = settings(free_port())
    with pytest.raises(MailError, match="cannot connect"):
        send(message(config), config)


class Tarpit(Inbox):
    """Answers DATA a line at a time, never finishing: each read gets a byte well within the
    socket timeout, so only a bound on the whole send ends it."""

    def __init__(self) -> None:
        super().__init__()
        self.stop = threading.Event()
        self.dripping = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        while not self.stop.is_set():
            self.dripping.set()
            await server.push("250-still thinking")
            await asyncio.sleep(0.1)
        return "451 gave up"


def test_a_tarpit_cannot_hold_a_send_beyond_the_timeout():
    port, tarpit = free_port(), Tarpit()
    controller = serve(tarpit, port)
    outcome: list[BaseException | dict] = []

    def sending() -> None:
        try:
            outcome.append(send(message(config), config))
        except MailError as exc:
            outcome.append(exc)

    config = settings(port, timeout=1)
    sender = threading.Thread(target=sending, daemon=True)
    try:
        sender.start()
        wait_for(tarpit.dripping.is_set)
        wait_for(lambda: outcome)  # on a loaded machine, long after the 1 s; without the bound, never
    finally:
        tarpit.stop.set()
        controller.stop()
    (error,) = outcome
    assert isinstance(error, MailError) and "within 1 s" in str(error)
    assert tarpit.messages == []
