"""What every response and every form of the reading room passes: headers, password, CSRF.

Feed text is other people's text shown in our origin, so the pages allow no script at all and no
inline style (the Content-Security-Policy below); a script that slipped past the escaping would
still not run. The feedback forms change the store, so each POST must carry the token from a
cookie only our own pages can read (the double-submit pattern) and come from our own origin.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),  # an outlet need not learn what the reader searched
    (b"x-frame-options", b"DENY"),
]
CSRF_COOKIE = "newswatch_csrf"
CSRF_FIELD = "csrf"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class SecurityMiddleware:
    """Headers on every response; HTTP basic auth when a password is set; the CSRF cookie."""

    def __init__(self, app: ASGIApp, *, username: str = "", password: str = ""):
        self.app = app
        self.username = username
        self.password = password

    def _authorised(self, scope: Scope) -> bool:
        value = _header(scope, b"authorization") or ""
        scheme, _, encoded = value.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        # Both compared, always, in constant time: the answer must not tell which one was wrong.
        good_user = hmac.compare_digest(user.encode(), self.username.encode())
        good_password = hmac.compare_digest(password.encode(), self.password.encode())
        return good_user and good_password

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.password and not self._authorised(scope):
            await send({"type": "http.response.start", "status": 401, "headers": [
                *HEADERS, (b"www-authenticate", b'Basic realm="newswatch", charset="UTF-8"'),
                (b"content-type", b"text/plain; charset=utf-8")]})
            await send({"type": "http.response.body", "body": b"newswatch: a password is required\n"})
            return
        cookie = SimpleCookie(_header(scope, b"cookie") or "")
        token = cookie[CSRF_COOKIE].value if CSRF_COOKIE in cookie else ""
        fresh = len(token) != 43  # token_urlsafe(32); anything else was not made here
        if fresh:
            token = secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf_token"] = token

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += HEADERS
                if fresh:
                    headers.append((b"set-cookie", (f"{CSRF_COOKIE}={token}; Path=/; HttpOnly; "
                                                    "SameSite=Strict").encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def csrf_valid(scope: Scope, submitted: str | None) -> bool:
    """The form's token matches the cookie, and a browser that names the origin names ours."""
    cookie = SimpleCookie(_header(scope, b"cookie") or "")
    expected = cookie[CSRF_COOKIE].value if CSRF_COOKIE in cookie else ""
    if not expected or not submitted or not hmac.compare_digest(expected.encode(), submitted.encode()):
        return False
    origin = _header(scope, b"origin")
    if origin and origin != "null":
        host = _header(scope, b"host") or ""
        if origin.split("://", 1)[-1] != host:
            return False
    return True
