"""Which day a digest covers and when it is due, in the digest's own time zone.

Apart from the builder so that `health` and the scheduler can ask when a digest is due without
loading the topic matcher the builder highlights with (start-up time, issue 23).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pipeline.config import DigestSection
from pipeline.store import TaggedItem

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def window(start: date, days: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[local midnight of start, local midnight `days` later) in UTC; 23 or 25 hours on DST days."""
    begin = datetime.combine(start, time(0), tzinfo=tz)
    end = datetime.combine(start + timedelta(days=days), time(0), tzinfo=tz)
    return begin.astimezone(UTC), end.astimezone(UTC)


def _digest_time(settings: DigestSection) -> time:
    hour, minute = map(int, settings.time.split(":"))
    return time(hour, minute)


def due_at(day: date, settings: DigestSection) -> datetime:
    """When the daily digest for `day` is due: the configured wall-clock time on the next day.

    Built from the local date and time with zoneinfo, not by adding hours to a UTC moment, so it
    stays at 07:00 local across a DST change. A time that does not exist that night (inside the
    spring-forward gap) resolves to the moment just after the gap.
    """
    return datetime.combine(day + timedelta(days=1), _digest_time(settings), tzinfo=ZoneInfo(settings.timezone))


def due_days(now: datetime, settings: DigestSection, catch_up: int = 2) -> list[date]:
    """The newest `catch_up` daily digests whose time has passed, oldest first."""
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    newest = today - timedelta(days=1)
    if due_at(newest, settings) > now:
        newest -= timedelta(days=1)
    return [newest - timedelta(days=n) for n in reversed(range(catch_up))]


def last_due_day(moment: datetime, settings: DigestSection) -> date:
    """The newest day whose daily digest was due at `moment` (built and sent, when the service ran)."""
    newest = moment.astimezone(ZoneInfo(settings.timezone)).date() - timedelta(days=1)
    return newest if due_at(newest, settings) <= moment else newest - timedelta(days=1)


def digest_day(item: TaggedItem, settings: DigestSection) -> date:
    """The one daily digest an item belongs to: the day it was published, or, when that day's digest
    was already due when the item was processed, the first day whose digest was not."""
    return day_of_digest(item.published or item.discovered_at, item.processed_at or item.discovered_at, settings)


def day_of_digest(published: datetime, processed: datetime, settings: DigestSection) -> date:
    """`digest_day` from the two moments it depends on."""
    day = published.astimezone(ZoneInfo(settings.timezone)).date()
    return max(day, last_due_day(processed, settings) + timedelta(days=1))


_DAYS_AGO = re.compile(r"(\d{1,5})\s+days?\s+ago")


def parse_day(text: str, today: date) -> date:
    """A day as people write it on the command line: today, yesterday, N days ago, YYYY-MM-DD.

    Raises ValueError with a one-line message naming what is accepted.
    """
    value = " ".join(text.strip().casefold().split())
    if value == "today":
        return today
    if value == "yesterday":
        return today - timedelta(days=1)
    if match := _DAYS_AGO.fullmatch(value):
        return today - timedelta(days=int(match.group(1)))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a day of the calendar ({exc})") from None
    raise ValueError(f"{text!r} is not a day: expected today, yesterday, \"N days ago\" or YYYY-MM-DD")


def weekly_due(now: datetime, settings: DigestSection) -> date:
    """The first day of the newest weekly digest whose time has passed.

    The week is the seven days ending the day before `weekly_day`, due at the digest time on that day.
    """
    tz = ZoneInfo(settings.timezone)
    today = now.astimezone(tz).date()
    send_day = today - timedelta(days=(today.weekday() - WEEKDAYS.index(settings.weekly_day)) % 7)
    if datetime.combine(send_day, _digest_time(settings), tzinfo=tz) > now:
        send_day -= timedelta(days=7)
    return send_day - timedelta(days=7)
