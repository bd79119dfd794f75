"""Load and validate config.toml once, at start-up.

Every problem becomes a ConfigError naming the file, line and key, so the CLI can print one line
and exit 2 instead of failing later in the middle of a poll.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import ConfigError, find_key_line

DIGEST_FORMATS = ("markdown", "html", "text", "json", "atom")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)  # no "inf" minutes


class StorageSection(_Section):
    path: str = "data/newswatch.db"
    # A libpq URL selects the PostgreSQL backend; without it the SQLite file at `path` is the store.
    url: str = ""
    keep_html_days: int = Field(30, ge=0)
    # PostgreSQL only: how long a claimed feed or entry stays with a process that stops renewing it.
    lease_seconds: float = Field(120.0, ge=1)
    # PostgreSQL only: most entries one process claims at a time, so a burst is shared among processes
    # instead of going whole to whichever asks first.
    claim_batch: int = Field(400, ge=1)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError(f"expected a postgresql:// URL, got scheme {parts.scheme!r}")
        if parts.password:
            # config files get copied, committed and pasted into bug reports
            raise ValueError("the password must not be in config.toml: use PGPASSWORD or ~/.pgpass")
        return value


class SourcesSection(_Section):
    dir: str = "sources"


class NetworkSection(_Section):
    user_agent: str = "newswatch/0.1 (news monitor; +https://github.com/newswatch/newswatch)"
    contact: str = ""  # appended to the User-Agent so site owners can reach the operator
    timeout: float = Field(30.0, gt=0)  # whole request, seconds
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(20.0, gt=0)
    max_body_bytes: int = Field(10_000_000, gt=0)
    max_connections: int = Field(32, ge=1)
    per_host_connections: int = Field(2, ge=1)
    min_host_delay: float = Field(1.0, ge=0)
    allow_private_addresses: bool = False
    obey_robots: bool = True


class ScheduleSection(_Section):
    poll_interval_minutes: float = Field(30, gt=0)
    min_interval_minutes: float = Field(5, gt=0)
    max_interval_minutes: float = Field(360, gt=0)
    process_batch: int = Field(200, ge=1)
    parse_workers: int = Field(0, ge=0)  # processes parsing feeds in a big poll cycle; 0 = one per CPU (max 4)


class DigestSection(_Section):
    time: str = "07:00"
    timezone: str = "UTC"
    output_dir: str = "digests"
    formats: list[str] = Field(default_factory=lambda: list(DIGEST_FORMATS))
    topics: list[str] = Field(default_factory=lambda: ["us-china-milcomm"])
    empty_day: Literal["skip", "send"] = "skip"
    per_source_cap: int = Field(5, ge=1)
    weekly: bool = False
    weekly_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    # Estimated Jaccard similarity of word 3-shingles above which two items are one story; 0.5 keeps
    # wire copy under other boilerplate and light edits together and separate stories apart.
    cluster_threshold: float = Field(0.5, gt=0, le=1)

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("expected a 24-hour local time like \"07:00\"")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"expected an IANA time zone like \"Europe/Kyiv\", got {value!r}") from None
        return value

    @field_validator("formats")
    @classmethod
    def _formats(cls, value: list[str]) -> list[str]:
        unknown = [f for f in value if f not in DIGEST_FORMATS]
        if unknown:
            raise ValueError(f"unknown format {unknown[0]!r}; expected some of {', '.join(DIGEST_FORMATS)}")
        return value


class EmailSection(_Section):
    enabled: bool = False
    host: str = "localhost"
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str = ""
    password_env: str = "NEWSWATCH_SMTP_PASSWORD"  # the password itself never lives in config.toml
    sender: str = "newswatch@localhost"
    recipients: list[str] = Field(default_factory=list)
    timeout: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _recipients(self) -> EmailSection:
        if self.enabled and not self.recipients:
            raise ValueError("email is enabled but [email] recipients is empty")
        return self


class TopicsSection(_Section):
    # A bare name ("us-china-milcomm") is a topic bundled with newswatch; anything else is a path.
    files: list[str] = Field(default_factory=lambda: ["us-china-milcomm"])


class HealthSection(_Section):
    # `newswatch health` and the metrics: unhealthy when no feed was polled successfully for this long
    # (`health --max-poll-age` overrides it), or when due entries wait this long with none attempted.
    max_poll_age_minutes: float = Field(120, gt=0)
    max_queue_age_minutes: float = Field(60, gt=0)


class LoggingSection(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class WebSection(_Section):
    host: str = "127.0.0.1"  # any other address needs password_env: the reading room has feedback forms
    port: int = Field(8080, ge=1, le=65535)
    username: str = "newswatch"
    password_env: str = ""  # the name of the environment variable holding the password, never the password
    # Where readers reach the room, e.g. "https://news.example.org/" behind a TLS proxy: its host is
    # accepted in the Host header and its origin on feedback forms (alerts link to item pages with it).
    base_url: str = ""
    # Further Host names (no port) readers may use, e.g. the proxy's name when base_url is not set.
    allowed_hosts: list[str] = Field(default_factory=list)
    # Proxies (addresses or networks) whose X-Forwarded-Host and X-Forwarded-For are believed.
    trusted_proxies: list[str] = Field(default_factory=list)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"expected an http(s) URL like \"https://news.example.org/\", got {value!r}")
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _allowed_hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if not (re.fullmatch(r"[A-Za-z0-9.-]+", host) or _is_ip(host.strip("[]"))):
                raise ValueError(f"expected host names without port or scheme, like \"news.example.org\", "
                                 f"got {host!r}")
        return [h.lower().strip("[]") for h in value]

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: list[str]) -> list[str]:
        for proxy in value:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"expected IP addresses or networks like \"127.0.0.1\" or \"10.0.0.0/8\", "
                                 f"got {proxy!r}") from None
        return value


class _ConfigModel(_Section):
    storage: StorageSection = Field(default_factory=StorageSection)
    sources: SourcesSection = Field(default_factory=SourcesSection)
    network: NetworkSection = Field(default_factory=NetworkSection)
    schedule: ScheduleSection = Field(default_factory=ScheduleSection)
    digest: DigestSection = Field(default_factory=DigestSection)
    email: EmailSection = Field(default_factory=EmailSection)
    topics: TopicsSection = Field(default_factory=TopicsSection)
    health: HealthSection = Field(default_factory=HealthSection)
    logging: LoggingSection = Field(default_factory=LoggingSection)
    web: WebSection = Field(default_factory=WebSection)


@dataclass(frozen=True)
class Config:
    """The validated configuration, with every path made absolute against the config file."""

    file: Path
    storage: StorageSection
    sources: SourcesSection
    network: NetworkSection
    schedule: ScheduleSection
    digest: DigestSection
    email: EmailSection
    topics: TopicsSection
    health: HealthSection
    logging: LoggingSection
    web: WebSection

    @property
    def db_path(self) -> Path:
        return self._resolve(self.storage.path)

    @property
    def backend(self) -> Literal["sqlite", "postgresql"]:
        return "postgresql" if self.storage.url else "sqlite"

    @property
    def sources_dir(self) -> Path:
        return self._resolve(self.sources.dir)

    @property
    def digest_dir(self) -> Path:
        return self._resolve(self.digest.output_dir)

    @property
    def topic_files(self) -> list[Path]:
        return [bundled_topic(f) if _is_bundled_name(f) else self._resolve(f) for f in self.topics.files]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.digest.timezone)

    def error(self, key: str, problem: str) -> ConfigError:
        """A problem with `key`'s value found after loading (a directory that is not there), located
        at its line in this file; at its section's line, or none, when the key is left to its default."""
        try:
            text = self.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        return ConfigError(self.file, key, problem, find_key_line(text, key) if text else None)

    def _resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.file.parent / p).resolve()


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_bundled_name(entry: str) -> bool:
    return "/" not in entry and "\\" not in entry and not entry.endswith(".toml")


def bundled_topic(name: str) -> Path:
    return Path(__file__).parent / "defaults" / f"{name}.toml"


def _describe(error: dict) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if msg.startswith("Value error, "):
        return msg.removeprefix("Value error, ")
    return f"{msg.lower()}, got {error.get('input')!r}"


def load_config(path: str | Path) -> Config:
    file = Path(path).expanduser().resolve()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(file, "", "config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(file, "", f"cannot read config file: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError.from_toml(file, exc) from None
    try:
        model = _ConfigModel.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(file, key, _describe(first), find_key_line(text, key)) from None
    return Config(file=file, **{name: getattr(model, name) for name in _ConfigModel.model_fields})
