"""What every request and response of the reading room passes: host, size, password, CSRF, headers.

Feed text is other people's text shown in our origin, so the pages allow no script at all and no
inline style (the Content-Security-Policy below); a script that slipped past the escaping would
still not run. The feedback forms change the store, so each POST must carry the token from a
cookie only our own pages can read (the double-submit pattern), signed with this process's key so
that a cookie planted from elsewhere is no token, and come from our own origin.

Before any of that, the Host header must name the room (`Doors`): a DNS-rebinding page reaches
127.0.0.1 under its own name, and is refused. A request body is capped before it is read, a
request with a NUL byte in its path or query is refused before any page sees it, and failed
logins are counted per client: past LOGIN_FAILURES in LOGIN_WINDOW seconds the client is refused
for LOGIN_WINDOW seconds, one log line when that starts.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.exceptions import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# script-src 'self': the one script is ours (static/keys.js, the keyboard shortcuts), never inline.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    # same-origin, not no-referrer: an outlet still learns nothing of what the reader searched, and
    # Chromium sends "Origin: null" on our own form posts under no-referrer, which the CSRF check refuses.
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
CSRF_COOKIE = "newswatch_csrf"
CSRF_FIELD = "csrf"
CSRF_MAX_AGE = 7 * 24 * 3600  # a tab left open a week still posts; older tokens are replaced
MAX_BODY_BYTES = 64 * 1024  # a feedback form is a few hundred bytes
LOGIN_FAILURES = 10  # failed logins per client within LOGIN_WINDOW before it is refused
LOGIN_WINDOW = 60.0
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
log = logging.getLogger("newswatch.web")


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


def _cookie(scope: Scope, name: str) -> str:
    try:
        cookie = SimpleCookie(_header(scope, b"cookie") or "")
    except CookieError:
        return ""
    return cookie[name].value if name in cookie else ""


def _hostname(netloc: str) -> str:
    """"Example.org:8080" -> "example.org", "[::1]:80" -> "::1"; "" for what is no host at all."""
    try:
        return (urlsplit("//" + netloc).hostname or "").lower()
    except ValueError:
        return ""


@dataclass(frozen=True)
class Doors:
    """Which Host names are the reading room, and whose forwarding headers are believed."""

    hosts: frozenset[str]
    base_origin: str = ""  # scheme://host[:port] of `[web] base_url`, "" when not set
    proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def for_bind(cls, bind: str, base_url: str = "", allowed: Iterable[str] = (),
                 proxies: Iterable[str] = ()) -> Doors:
        hosts = set(allowed)
        if is_loopback(bind):
            hosts |= LOOPBACK_NAMES
        if bind.strip("[]") not in WILDCARDS:
            hosts.add(bind.strip("[]").lower())
        origin = ""
        if base_url:
            parts = urlsplit(base_url)
            hosts.add((parts.hostname or "").lower())
            origin = f"{parts.scheme}://{parts.netloc}".lower()
        return cls(frozenset(hosts), origin, tuple(ipaddress.ip_network(p, strict=False) for p in proxies))

    def trusted(self, scope: Scope) -> bool:
        client = scope.get("client")
        if not client or not self.proxies:
            return False
        try:
            address = ipaddress.ip_address(client[0])
        except ValueError:
            return False
        return any(address in network for network in self.proxies)

    def host(self, scope: Scope) -> str:
        """The host[:port] the reader asked for: a trusted proxy's X-Forwarded-Host, else Host."""
        if self.trusted(scope):
            forwarded = _header(scope, b"x-forwarded-host")
            if forwarded:
                return forwarded.split(",")[-1].strip()  # the nearest proxy's word
        return _header(scope, b"host") or ""

    def client(self, scope: Scope) -> str:
        """Who is asking: the peer, or behind a trusted proxy the address it forwarded for."""
        peer = scope.get("client")
        peer_address = peer[0] if peer else "?"
        if self.trusted(scope):
            forwarded = _header(scope, b"x-forwarded-for")
            if forwarded:
                return forwarded.split(",")[-1].strip()
        return peer_address

    def admits(self, scope: Scope) -> bool:
        return _hostname(self.host(scope)) in self.hosts

    def same_origin(self, scope: Scope, origin: str) -> bool:
        if origin == "null":  # sandboxed frames, data: URLs, some redirects: never our own pages
            return False
        if self.base_origin and origin.lower() == self.base_origin:
            return True
        return origin.split("://", 1)[-1].lower() == self.host(scope).lower()


@dataclass
class LoginThrottle:
    """Failed logins per client within the last LOGIN_WINDOW seconds."""

    failures: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self.failures.get(client)
        if times is None:
            if len(self.failures) > 10_000:  # many clients: forget those whose window has passed
                for key in [k for k, v in self.failures.items() if not v or now - v[-1] > LOGIN_WINDOW]:
                    del self.failures[key]
            times = self.failures[client] = deque()
        while times and now - times[0] > LOGIN_WINDOW:
            times.popleft()
        return times

    def refused_for(self, client: str) -> float:
        """Seconds the client must wait before it may try again; 0 when it may try now."""
        now = time.monotonic()
        times = self._recent(client, now)
        return LOGIN_WINDOW - (now - times[0]) if len(times) >= LOGIN_FAILURES else 0.0

    def failed(self, client: str, user: str) -> None:
        now = time.monotonic()
        times = self._recent(client, now)
        times.append(now)
        if len(times) == LOGIN_FAILURES:
            log.warning("reading room: %d failed logins from %s in %.0f s; refusing it for %.0f s",
                        LOGIN_FAILURES, client, LOGIN_WINDOW, LOGIN_WINDOW)
        elif len(times) < LOGIN_FAILURES:
            log.warning("reading room: failed login as %r from %s", user[:64], client)


def _malformed(scope: Scope) -> str:
    """Why the request line cannot be meant for any page, or "". A NUL byte has no place in a path
    or query, and the database layers below treat it as the end of the string."""
    if "\x00" in scope.get("path", ""):
        return "a NUL byte in the path"
    if b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
        return "a NUL byte in the query"
    return ""


def secure_headers(headers: MutableMapping[str, str]) -> None:
    """The security headers on a response made outside the middleware (Starlette's 500 page)."""
    for name, value in HEADERS:
        headers[name.decode()] = value.decode()


class SecurityMiddleware:
    """Host check, NUL and size limits, HTTP basic auth when a password is set, the signed CSRF
    cookie, and the security headers on every response."""

    def __init__(self, app: ASGIApp, *, username: str = "", password: str = "", doors: Doors | None = None,
                 secret: bytes | None = None):
        self.app = app
        self.username = username
        self.password = password
        self.doors = doors or Doors.for_bind("127.0.0.1")
        # A key of this process's own: tokens from before a restart are replaced on the next page.
        self.signer = URLSafeTimedSerializer(secret or secrets.token_bytes(32), salt="newswatch-csrf")
        self.throttle = LoginThrottle()

    def _credentials(self, scope: Scope) -> tuple[str, str] | None:
        value = _header(scope, b"authorization") or ""
        scheme, _, encoded = value.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return ("?", "")
        return user, password

    def _authorised(self, credentials: tuple[str, str]) -> bool:
        user, password = credentials
        # Both compared, always, in constant time: the answer must not tell which one was wrong.
        good_user = hmac.compare_digest(user.encode(), self.username.encode())
        good_password = hmac.compare_digest(password.encode(), self.password.encode())
        return good_user and good_password

    def valid_token(self, token: str) -> bool:
        try:
            self.signer.loads(token, max_age=CSRF_MAX_AGE)
        except (BadSignature, UnicodeError):
            return False
        return True

    async def _refuse(self, send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] = ()) -> None:
        await send({"type": "http.response.start", "status": status, "headers": [
            *HEADERS, *extra, (b"content-type", b"text/plain; charset=utf-8")]})
        await send({"type": "http.response.body", "body": f"newswatch: {text}\n".encode()})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.doors.admits(scope):
            await self._refuse(send, 400, "this is not a host name of the reading room")
            return
        problem = _malformed(scope)
        if problem:
            await self._refuse(send, 400, f"malformed request: {problem}")
            return
        length = _header(scope, b"content-length")
        if length is not None and (not length.strip().isdigit() or int(length) > MAX_BODY_BYTES):
            await self._refuse(send, 413, f"request body over {MAX_BODY_BYTES} bytes")
            return
        if self.password:
            client = self.doors.client(scope)
            wait = self.throttle.refused_for(client)
            if wait:
                await self._refuse(send, 429, "too many failed logins: try again later",
                                   [(b"retry-after", str(int(wait) + 1).encode())])
                return
            credentials = self._credentials(scope)
            if credentials is None or not self._authorised(credentials):
                if credentials is not None:  # a browser's first request carries none: no failure
                    self.throttle.failed(client, credentials[0])
                await self._refuse(send, 401, "a password is required",
                                   [(b"www-authenticate", b'Basic realm="newswatch", charset="UTF-8"')])
                return
        token = _cookie(scope, CSRF_COOKIE)
        fresh = not self.valid_token(token)
        if fresh:
            token = self.signer.dumps(secrets.token_urlsafe(16))
        state = scope.setdefault("state", {})
        state["csrf_token"] = token
        state["csrf_check"] = lambda submitted: csrf_valid(scope, submitted, self)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k not in _OURS]
                headers += HEADERS
                if fresh:
                    headers.append((b"set-cookie", (f"{CSRF_COOKIE}={token}; Path=/; HttpOnly; "
                                                    "SameSite=Strict").encode()))
                message["headers"] = headers
            await send(message)

        received = 0

        async def capped_receive() -> Message:
            # A body sent without Content-Length (chunked) is counted as it arrives.
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise HTTPException(413, f"request body over {MAX_BODY_BYTES} bytes")
            return message

        await self.app(scope, capped_receive, send_with_headers)


_OURS = frozenset(name for name, _ in HEADERS)


def csrf_valid(scope: Scope, submitted: str | None, guard: SecurityMiddleware) -> bool:
    """The form's token matches the cookie and is one this process signed, and a browser that
    names the origin names ours."""
    expected = _cookie(scope, CSRF_COOKIE)
    if not expected or not submitted or not hmac.compare_digest(expected.encode(), submitted.encode()):
        return False
    if not guard.valid_token(expected):
        return False
    origin = _header(scope, b"origin")
    return origin is None or guard.doors.same_origin(scope, origin)
