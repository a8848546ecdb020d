"""One time zone for what people read and for the days they pick (FIELDSYNC_TIMEZONE, Beijing
time by default): stored times stay UTC; a "day" in a report is a day of this zone."""
from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Shanghai"


def zone_of(name: str | None) -> tzinfo:
    """The zone named `name` (an IANA name); raises ValueError for an unknown one."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def local_date(moment: datetime, zone: tzinfo) -> date:
    """The day `moment` falls on in `zone`."""
    return moment.astimezone(zone).date()


def day_start(day: date, zone: tzinfo) -> datetime:
    """Midnight at the start of `day` in `zone` (aware)."""
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def last_days(now: datetime, days: int, zone: tzinfo) -> tuple[datetime, datetime]:
    """The last `days` whole local days up to `now`, today included: (start, now)."""
    return day_start(local_date(now, zone) - timedelta(days=days - 1), zone), now
