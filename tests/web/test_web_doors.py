"""Issue 24, case 6: the reading room's doors, tried against a real `newswatch serve` on 127.0.0.1.

Password variable named but empty, Host checked (DNS rebinding), a proxy that rewrites Host,
signed CSRF tokens and `Origin: null`, the body cap, half-open connections, password guessing,
malformed parameters and 500 pages: each as a client would try it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest
from waiting import wait_for
from web_helpers import STARTUP_DEADLINE, free_port, http_client, http_get, http_post

from pipeline.cli import main
from pipeline.store import Store

FORM = {"topic": "us-china-milcomm", "action": "not_relevant"}
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")


def _set_web(config: Path, body: str) -> None:
    config.write_text(config.read_text(encoding="utf-8") + f"\n[web]\n{body}\n", encoding="utf-8")


@contextmanager
def serving(config: Path, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`newswatch serve` with its log in a file the test can read while it runs."""
    port = free_port()
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", "--config", str(config),
                                    "--port", str(port)], env={**os.environ, **(env or {})},
                                   stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        def answers() -> bool:
            assert process.poll() is None, log.read_text()
            try:
                return http_get(base + "/static/style.css", timeout=2).status_code in (200, 401)
            except httpx.TransportError:
                return False

        wait_for(answers, timeout=STARTUP_DEADLINE)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def shared(demo_output, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """One server for the checks that change nothing, on a private copy of the demo."""
    folder = tmp_path_factory.mktemp("doors") / "demo"
    shutil.copytree(demo_output, folder)
    with serving(folder / "config.toml", folder / "serve.log") as base:
        yield base, folder


def _token(client: httpx.Client, **headers: str) -> str:
    page = client.get("/items/1", headers=headers)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def _feedback(db: Path) -> list[dict]:
    with Store(db) as store:
        return store.feedback(1)


def test_a_named_but_empty_or_unset_password_variable_is_a_start_up_error(demo_copy, capsys, monkeypatch):
    config = demo_copy / "config.toml"
    _set_web(config, 'password_env = "NW_DOORS_PASSWORD"')
    monkeypatch.delenv("NW_DOORS_PASSWORD", raising=False)
    assert main(["serve", "--config", str(config)]) == 2  # loopback too: a TLS proxy may be in front
    err = capsys.readouterr().err
    assert re.search(r"config\.toml:\d+: web\.password_env: the environment variable NW_DOORS_PASSWORD is not set",
                     err), err
    monkeypatch.setenv("NW_DOORS_PASSWORD", "")
    assert main(["serve", "--config", str(config)]) == 2
    assert "NW_DOORS_PASSWORD is empty" in capsys.readouterr().err


def test_a_wildcard_bind_needs_the_host_names_readers_use(demo_copy, capsys, monkeypatch):
    config = demo_copy / "config.toml"
    _set_web(config, 'password_env = "NW_DOORS_PASSWORD"')
    monkeypatch.setenv("NW_DOORS_PASSWORD", "s3cret")
    assert main(["serve", "--config", str(config), "--host", "0.0.0.0"]) == 2
    assert "web.allowed_hosts: serving on 0.0.0.0 needs the host names readers use" in capsys.readouterr().err


def test_dns_rebinding_host_is_refused_and_the_item_stays_in_the_digest(shared):
    base, demo_copy = shared
    port = base.rsplit(":", 1)[1]
    evil = {"Host": f"rebind.evil.example:{port}", "Origin": f"http://rebind.evil.example:{port}"}
    with http_client(base_url=base) as client:
        refused = client.get("/items/1", headers={"Host": evil["Host"]})
        assert refused.status_code == 400 and "newswatch_csrf" not in refused.headers.get("set-cookie", "")
        assert all(h in refused.headers for h in SECURITY_HEADERS)
        token = _token(client)  # even with a real token from our own page
        post = client.post("/items/1/feedback", data={**FORM, "csrf": token}, headers=evil)
        assert post.status_code == 400
    assert _feedback(demo_copy / "newswatch.db") == []


def test_behind_a_proxy_that_rewrites_host_feedback_works(demo_copy, tmp_path):
    config = demo_copy / "config.toml"
    _set_web(config, 'base_url = "https://news.example.org/"\ntrusted_proxies = ["127.0.0.1"]')
    with serving(config, tmp_path / "serve.log") as base, http_client(base_url=base) as client:
        # nginx's default: Host is the upstream's address, the browser's Origin is the public name.
        token = _token(client)
        done = client.post("/items/1/feedback", data={**FORM, "csrf": token},
                           headers={"Origin": "https://news.example.org"})
        assert done.status_code == 303
        # A proxy that forwards the public name as X-Forwarded-Host, trusted because it is 127.0.0.1.
        forwarded = {"Host": "upstream.internal", "X-Forwarded-Host": "news.example.org"}
        token = _token(client, **forwarded)
        done = client.post("/items/1/feedback", data={**FORM, "action": "star", "csrf": token},
                           headers={**forwarded, "Origin": "https://news.example.org"})
        assert done.status_code == 303
    assert [(f["verdict"], f["starred"]) for f in _feedback(demo_copy / "newswatch.db")] == [("not_relevant", 1)]


def test_x_forwarded_host_from_an_untrusted_peer_is_ignored(shared):
    with http_client(base_url=shared[0]) as client:
        assert client.get("/", headers={"Host": "evil.example", "X-Forwarded-Host": "127.0.0.1"}).status_code == 400


def test_csrf_tokens_are_signed_and_origin_null_is_refused(demo_copy, tmp_path):
    db = demo_copy / "newswatch.db"
    with serving(demo_copy / "config.toml", tmp_path / "a.log") as base, http_client(base_url=base) as client:
        token = _token(client)
        # Any 43 characters in cookie and form alike (a cookie planted by a sibling site) is no token.
        planted = "A" * 43
        forged = http_post(base + "/items/1/feedback", data={**FORM, "csrf": planted},
                            cookies={"newswatch_csrf": planted})
        assert forged.status_code == 403
        null = client.post("/items/1/feedback", data={**FORM, "csrf": token}, headers={"Origin": "null"})
        assert null.status_code == 403
        assert _feedback(db) == []
        with serving(demo_copy / "config.toml", tmp_path / "b.log") as other:
            # A token another server signed is not ours.
            foreign = http_post(other + "/items/1/feedback", data={**FORM, "csrf": token},
                                 cookies={"newswatch_csrf": token})
            assert foreign.status_code == 403
        assert _feedback(db) == []
        assert client.post("/items/1/feedback", data={**FORM, "csrf": token}).status_code == 303


def _raw(base: str, request: bytes, timeout: float = 60.0) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
        return answer


def test_a_huge_body_is_refused_before_it_is_read(shared):
    base, demo_copy = shared
    host = base.removeprefix("http://")
    # 200 MB announced, none sent: the answer must come without waiting for (or parsing) it.
    head = (f"POST /items/1/feedback HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded"
            f"\r\nContent-Length: {200 * 1024 * 1024}\r\n\r\n").encode()
    assert _raw(base, head + b"csrf=x").startswith(b"HTTP/1.1 413")
    # Chunked, so no length to look at: counted as it arrives.
    with http_client(base_url=base) as client:
        token = _token(client)
        body = iter([f"csrf={token}&topic=us-china-milcomm&action=star&pad=".encode(), b"x" * 200_000])
        answer = client.post("/items/1/feedback", content=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert answer.status_code == 413
        assert all(h in answer.headers for h in SECURITY_HEADERS)
    assert _feedback(demo_copy / "newswatch.db") == []


def test_half_open_connections_are_closed_and_the_room_stays_reachable(shared):
    base, demo_copy = shared
    host, port = base.removeprefix("http://").split(":")
    sockets = []
    for n in range(60):
        sock = socket.create_connection((host, int(port)), timeout=90)
        if n % 2:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers begun, never finished
        sockets.append(sock)
    try:
        assert http_get(base + "/").status_code == 200
        for sock in sockets:  # closed by the server: recv sees the end (or a reset), not a stall
            with suppress(ConnectionResetError):
                assert sock.recv(1024) == b""
    finally:
        for sock in sockets:
            sock.close()
    log = (demo_copy / "serve.log").read_text()
    assert len(log.splitlines()) < 10, log


def test_password_guessing_is_throttled_and_logged(demo_copy, tmp_path):
    config = demo_copy / "config.toml"
    _set_web(config, 'username = "reader"\npassword_env = "NW_DOORS_PASSWORD"')
    log = tmp_path / "serve.log"
    with serving(config, log, env={"NW_DOORS_PASSWORD": "correct horse"}) as base, http_client() as client:
        answers = [client.get(base + "/", auth=("reader", f"guess-{n}")).status_code for n in range(30)]
        assert answers[:10] == [401] * 10 and set(answers[10:]) == {429}
        locked = client.get(base + "/", auth=("reader", "correct horse"))
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
        text = wait_for(lambda: log.read_text() if "refusing it" in log.read_text() else None)
        assert text.count("failed login as 'reader' from 127.0.0.1") == 9
        assert text.count("10 failed logins from 127.0.0.1 in 60 s; refusing it for 60 s") == 1
        # Asking without credentials (a browser's first request) is no failed login.
        assert http_get(base + "/").status_code == 429


MALFORMED = ['/search?q="', "/search?q=%00", "/search?q=a%00b", "/search?source=%00", "/days/%00",
             "/items/99999999999999999999", "/items/9223372036854775808", "/days/9999-12-31",
             "/days/2026-02-30", "/search?q=x&from=9999-12-31", "/search?q=x&to=9999-12-31",
             "/search?q=x&page=99999999999999999999999", "/items/9223372036854775808/feedback"]


def test_every_malformed_parameter_is_a_400_with_the_security_headers(shared):
    base, demo_copy = shared
    with http_client(base_url=base) as client:
        token = _token(client)
        for path in MALFORMED:
            answer = client.post(path, data={**FORM, "csrf": token}) if path.endswith("/feedback") else client.get(path)
            assert answer.status_code == 400, (path, answer.status_code)
            assert all(h in answer.headers for h in SECURITY_HEADERS), path
        assert "Traceback" not in (demo_copy / "serve.log").read_text()


def test_a_500_page_carries_the_security_headers(demo_copy, tmp_path):
    with serving(demo_copy / "config.toml", tmp_path / "serve.log") as base:
        # A real fault below the page: the table the item page reads is gone.
        with sqlite3.connect(demo_copy / "newswatch.db") as db:
            db.execute("DROP TABLE feedback")
        answer = http_get(base + "/items/1")
        assert answer.status_code == 500
        assert all(h in answer.headers for h in SECURITY_HEADERS)
        assert answer.headers["content-security-policy"].startswith("default-src 'none'")


def test_pages_still_answer_through_the_doors(shared):
    base = shared[0]
    for path in ("/", "/search?q=hotline", "/items/1"):
        for host in ("127.0.0.1", "localhost", f"localhost:{base.rsplit(':', 1)[1]}"):
            assert http_get(base + path, headers={"Host": host}).status_code == 200, (path, host)
