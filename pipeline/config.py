"""Load and validate config.toml once, at start-up.

Every problem becomes a ConfigError naming the file, line and key, so the CLI can print one line
and exit 2 instead of failing later in the middle of a poll.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import ConfigError, ConfigErrors, find_key_line

if TYPE_CHECKING:
    from pipeline.models import Source

DIGEST_FORMATS = ("markdown", "html", "text", "json", "atom")


# Upper bounds: a value past these is a typo or a joke, and some (1e300 minutes, 1e9 days) overflow
# the datetime arithmetic they feed, far from start-up.
DAY_MINUTES = 24 * 60
MAX_INTERVAL_MINUTES = 30 * DAY_MINUTES
MAX_SECONDS = 3600.0  # any timeout or delay
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)  # no "inf" minutes

    @field_validator("*", mode="after")
    @classmethod
    def _one_line(cls, value: object) -> object:
        # A CR or LF in a string that ends up in an HTTP or SMTP header splits it into two headers.
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and _CONTROL.search(item):
                raise ValueError(f"expected text without line breaks or control characters, got {item!r}")
        return value


class StorageSection(_Section):
    path: str = "data/newswatch.db"
    # A libpq URL selects the PostgreSQL backend; without it the SQLite file at `path` is the store.
    url: str = ""
    keep_html_days: int = Field(30, ge=0, le=36500)
    # PostgreSQL only: how long a claimed feed or entry stays with a process that stops renewing it.
    lease_seconds: float = Field(120.0, ge=1, le=86400)
    # PostgreSQL only: most entries one process claims at a time, so a burst is shared among processes
    # instead of going whole to whichever asks first.
    claim_batch: int = Field(400, ge=1, le=100_000)

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
    timeout: float = Field(30.0, gt=0, le=MAX_SECONDS)  # whole request, seconds
    connect_timeout: float = Field(10.0, gt=0, le=MAX_SECONDS)
    read_timeout: float = Field(20.0, gt=0, le=MAX_SECONDS)
    max_body_bytes: int = Field(10_000_000, gt=0, le=1_000_000_000)
    max_connections: int = Field(32, ge=1, le=10_000)
    per_host_connections: int = Field(2, ge=1, le=1000)
    min_host_delay: float = Field(1.0, ge=0, le=MAX_SECONDS)
    allow_private_addresses: bool = False
    obey_robots: bool = True

    @field_validator("user_agent", "contact")
    @classmethod
    def _header_text(cls, value: str) -> str:
        # sent as an HTTP header, which carries ASCII only
        if not re.fullmatch(r"[\x20-\x7e]*", value):
            raise ValueError(f"expected printable ASCII (it is sent as an HTTP header), got {value!r}")
        return value


class ScheduleSection(_Section):
    poll_interval_minutes: float = Field(30, gt=0, le=MAX_INTERVAL_MINUTES)
    min_interval_minutes: float = Field(5, gt=0, le=MAX_INTERVAL_MINUTES)
    max_interval_minutes: float = Field(360, gt=0, le=MAX_INTERVAL_MINUTES)
    process_batch: int = Field(200, ge=1, le=100_000)
    parse_workers: int = Field(0, ge=0, le=64)  # processes parsing feeds in a big poll cycle; 0 = one per CPU (max 4)
    # A page's extraction and tagging longer than this is a hung unit: its worker is killed and replaced.
    unit_timeout_seconds: float = Field(120, gt=0, le=3600)

    @model_validator(mode="after")
    def _bounds(self) -> ScheduleSection:
        if self.min_interval_minutes > self.max_interval_minutes:
            raise ValueError(f"min_interval_minutes ({self.min_interval_minutes:g}) is above max_interval_minutes "
                             f"({self.max_interval_minutes:g})")
        return self


class DigestSection(_Section):
    time: str = "07:00"
    timezone: str = "UTC"
    output_dir: str = "digests"
    formats: list[str] = Field(default_factory=lambda: list(DIGEST_FORMATS))
    topics: list[str] = Field(default_factory=lambda: ["us-china-milcomm"])
    empty_day: Literal["skip", "send"] = "skip"
    per_source_cap: int = Field(5, ge=1, le=10_000)
    weekly: bool = False
    weekly_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    # Estimated Jaccard similarity of word 3-shingles above which two items are one story; 0.5 keeps
    # wire copy under other boilerplate and light edits together and separate stories apart.
    cluster_threshold: float = Field(0.5, gt=0, le=1)
    # After downtime, every missed day back to this many is built and delivered; older ones are logged.
    catch_up_days: int = Field(14, ge=1, le=366)
    # An item first seen more than this many days after its publication is backlog: stored, tagged
    # and searchable, never in a digest. 0: no limit. A source file's `max_age_days` overrides it.
    max_age_days: int = Field(2, ge=0, le=3650)

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
    timeout: float = Field(30.0, gt=0, le=MAX_SECONDS)

    @field_validator("recipients", "sender")
    @classmethod
    def _addresses(cls, value: str | list[str]) -> str | list[str]:
        for address in value if isinstance(value, list) else [value]:
            if not re.fullmatch(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+", address):
                raise ValueError(f"expected an email address like \"desk@example.org\", got {address!r}")
        return value

    @model_validator(mode="after")
    def _recipients(self) -> EmailSection:
        if self.enabled and not self.recipients:
            raise ValueError("email is enabled but [email] recipients is empty")
        return self


class TopicsSection(_Section):
    # A bare name ("us-china-milcomm") is a topic bundled with newswatch; anything else is a path.
    files: list[str] = Field(default_factory=lambda: ["us-china-milcomm"], min_length=1)


class HealthSection(_Section):
    # `newswatch health` and the metrics: unhealthy when no feed was polled successfully for this long
    # (`health --max-poll-age` overrides it), or when due entries wait this long with none attempted.
    max_poll_age_minutes: float = Field(120, gt=0, le=MAX_INTERVAL_MINUTES)
    max_queue_age_minutes: float = Field(60, gt=0, le=MAX_INTERVAL_MINUTES)
    # Unhealthy when more than this share of the feeds (or any feed of a source marked
    # `critical = true`) have failed for longer than `max_failing_hours`: one good feed must not
    # hide that most sources are dead.
    max_failing_share: float = Field(0.5, ge=0, le=1)
    max_failing_hours: float = Field(12, gt=0, le=MAX_INTERVAL_MINUTES / 60)


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


CHANNEL_RECEIVES = ("alerts", "digest")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ChannelSection(_Section):
    """One `[[channels]]` table: where alerts and digests go through Apprise."""

    name: str
    # The Apprise URL carries tokens, so it lives in this environment variable, never in the file.
    url_env: str
    receives: list[Literal["alerts", "digest"]] = Field(default_factory=lambda: list(CHANNEL_RECEIVES), min_length=1)
    topics: list[str] = Field(default_factory=list)  # empty: every topic
    alert_level: Literal["strong", "mention"] = "strong"

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", value):
            raise ValueError(f"expected a short name of letters, digits, '.', '_' or '-', got {value!r}")
        return value

    @field_validator("url_env")
    @classmethod
    def _url_env(cls, value: str) -> str:
        if not _ENV_NAME.fullmatch(value):
            raise ValueError(f"expected the name of an environment variable like \"NEWSWATCH_DESK_URL\" "
                             f"(the URL itself never sits in config.toml), got {value!r}")
        return value

    def wants(self, topic: str) -> bool:
        return not self.topics or topic in self.topics


class AlertsSection(_Section):
    # Local hours ([digest] timezone) in which alerts are held, then sent as one summary: "22:00-07:00".
    quiet_hours: str = ""
    # Most alerts one channel sends in an hour; the rest are held and sent as one summary.
    max_per_hour: int = Field(10, ge=1, le=10_000)

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        if value and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("expected local hours like \"22:00-07:00\", or \"\" for none")
        if value and value[:5] == value[6:]:
            raise ValueError(f"quiet hours start and end at the same time: {value!r}")
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
    alerts: AlertsSection = Field(default_factory=AlertsSection)
    channels: list[ChannelSection] = Field(default_factory=list)

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, value: list[ChannelSection]) -> list[ChannelSection]:
        seen: set[str] = set()
        for channel in value:
            if channel.name in seen:
                raise ValueError(f"two [[channels]] are named {channel.name!r}: each needs its own name")
            seen.add(channel.name)
        return value


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
    alerts: AlertsSection = field(default_factory=AlertsSection)
    channels: tuple[ChannelSection, ...] = ()
    # Each channel's Apprise URL, read from its `url_env` at start-up (a secret: never logged).
    channel_urls: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

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

    def item_url(self, entry_id: int) -> str | None:
        """The reading room's page for an item ("why tagged"), when `[web] base_url` says where it is."""
        if not self.web.base_url:
            return None
        return f"{self.web.base_url.rstrip('/')}/items/{entry_id}"

    def max_age(self, source: Source | None = None) -> timedelta | None:
        """How late an item of `source` may be first seen and still be news; None: no limit."""
        days = source.max_age_days if source is not None and source.max_age_days is not None \
            else self.digest.max_age_days
        return timedelta(days=days) if days else None

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


def _known_keys(loc: tuple) -> list[str]:
    """The keys allowed where `loc` points: the top-level sections, or a section's keys."""
    model: type[BaseModel] = _ConfigModel
    for part in loc[:-1]:
        if isinstance(part, int):  # an index into an array of tables ([[channels]])
            continue
        info = model.model_fields.get(str(part))
        annotation = info.annotation if info else None
        if getattr(annotation, "__origin__", None) is list:
            annotation = annotation.__args__[0]
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _describe(error: dict) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(error["loc"][-1]), _known_keys(error["loc"]), n=1, cutoff=0.6)
        return f"unknown key; did you mean {close[0]!r}?" if close else "unknown key"
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
        errors = []
        for error in exc.errors():
            key = ".".join(str(p) for p in error["loc"])
            errors.append(ConfigError(file, key, _describe(error), find_key_line(text, key)))
        raise ConfigErrors(sorted(errors, key=lambda e: e.line or 0)) from None
    values = {name: getattr(model, name) for name in _ConfigModel.model_fields}
    values["channels"] = tuple(model.channels)
    config = Config(file=file, **values)
    if model.channels:
        config.channel_urls.update(_channel_urls(config, text))
    return config


def channel_error(config: Config, name: str, problem: str) -> ConfigError:
    """A problem with a channel's URL found after loading, at its `url_env` line."""
    index = next(i for i, c in enumerate(config.channels) if c.name == name)
    return config.error(f"channels.{index}.url_env", problem)


def _channel_urls(config: Config, text: str) -> dict[str, str]:
    """Each channel's Apprise URL from its environment variable, checked now rather than at the first
    alert: a missing variable is a start-up error naming the channel. (Whether Apprise can use the
    URL is checked by `pipeline.alerts.check_channels`, which the commands call after loading.)"""
    import os

    urls, errors = {}, []
    for index, channel in enumerate(config.channels):
        key = f"channels.{index}.url_env"
        url = os.environ.get(channel.url_env, "").strip()
        problem = None
        if not url:
            problem = (f"channel {channel.name!r}: the environment variable {channel.url_env} is not set "
                       "(it holds the channel's Apprise URL, e.g. json://host/path)")
        elif not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", url):
            problem = (f"channel {channel.name!r}: {channel.url_env} does not hold an Apprise URL "
                       "(expected scheme://..., e.g. json://host/path, slack://..., ntfy://...)")
        if problem:
            errors.append(ConfigError(config.file, key, problem, find_key_line(text, key)))
        else:
            urls[channel.name] = url
    if errors:
        raise ConfigErrors(errors)
    return urls
