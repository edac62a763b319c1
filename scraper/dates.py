"""Date parsing shared by feeds, sitemaps and extraction.

Vietnamese sites give local wall time (Asia/Ho_Chi_Minh, UTC+7) when they give no zone.
Every function returns an aware datetime in UTC, or ``None`` when the text is not a date:
never the current time as a fallback.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Literal
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

_ISO_RE = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    # possessive: two \s* around an optional zone backtracked quadratically on a long run of
    # spaces ("2020-01-01" + 30,000 spaces + "x" in a feed took 6 s)
    r"\s*+(Z|[+-]\d{2}:?\d{2}|[+-]\d{2})?\s*$",
    re.IGNORECASE,
)


def to_utc(value: datetime, default_tz: timezone | ZoneInfo = VN_TZ) -> datetime:
    """Attach ``default_tz`` to a naive datetime, then convert to UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=default_tz)
    return value.astimezone(UTC)


def _offset(text: str) -> timezone | None:
    """The zone of ``Z``, ``+07:00``, ``-0530``...; None for an offset no zone has (24 h)."""
    if text.upper() == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4]) if len(digits) >= 4 else 0
    return _zone(sign, hours, minutes)


def _zone(sign: int, hours: int, minutes: int) -> timezone | None:
    if hours > 23 or minutes > 59:
        return None
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _utc(value: datetime, default_tz: timezone | ZoneInfo) -> datetime | None:
    """``to_utc``, or None where UTC falls outside the years datetime holds (9999-12-31
    23:00-05:00)."""
    try:
        return to_utc(value, default_tz)
    except OverflowError:
        return None


def parse_iso8601(text: str, default_tz: timezone | ZoneInfo = VN_TZ) -> datetime | None:
    """``2026-09-05T23:48:01+07:00``, ``2026-09-05 23:48``, ``2026-09-05`` ... or None."""
    m = _ISO_RE.match(text)
    if not m:
        return None
    year, month, day, hour, minute, second, zone = m.groups()
    try:
        value = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError:
        return None
    if zone:
        tz = _offset(zone)
        if tz is None:
            return None
        value = value.replace(tzinfo=tz)
    return _utc(value, default_tz)


_GMT_OFFSET_RE = re.compile(r"\b(?:GMT|UTC)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\s*$", re.IGNORECASE)
_TWO_DIGIT_YEAR_RE = re.compile(r"^(\s*(?:\w{3},\s*)?\d{1,2}\s+\w{3}\s+)(\d{2})(\s)")
# a four-digit year before 1000 ("01 Jan 0001"): the stdlib reads it as two digits (2001)
_ZERO_YEAR_RE = re.compile(r"^\s*(?:\w{3},\s*)?\d{1,2}\s+\w{3}\s+0\d{3}\b")


def parse_rfc822(text: str, default_tz: timezone | ZoneInfo = VN_TZ) -> datetime | None:
    """RFC 822/1123 dates as feeds write them, leniently.

    Accepts ``GMT+7`` style zones and two-digit years (``Sat, 05 Sep 26 17:09:00 +0700``).
    """
    text = text.strip()
    if not text:
        return None
    m = _GMT_OFFSET_RE.search(text)
    zone: timezone | None = None
    if m:
        sign, hours, minutes = m.groups()
        zone = _zone(-1 if sign == "-" else 1, int(hours), int(minutes or 0))
        if zone is None:
            return None  # "GMT+24": no zone
        text = text[: m.start()].strip()
    if _ZERO_YEAR_RE.match(text):
        return None
    m2 = _TWO_DIGIT_YEAR_RE.match(text)
    if m2:
        # RFC 2822 rule: 00-49 -> 20xx, 50-99 -> 19xx
        yy = int(m2.group(2))
        text = f"{m2.group(1)}{2000 + yy if yy < 50 else 1900 + yy}{m2.group(3)}{text[m2.end() :]}"
    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):  # "5 Sep 9999999999 1:0"
        return None
    if zone is not None:
        value = value.replace(tzinfo=zone)
    elif value.tzinfo is not None and value.utcoffset() == timedelta(0) and "-0000" in text:
        # "-0000" means "zone unknown" (RFC 2822): local time of the site
        value = value.replace(tzinfo=None)
    return _utc(value, default_tz)


def parse_epoch(value: str | int | float) -> datetime | None:
    """Seconds (or milliseconds) since the epoch, e.g. VnExpress ``its_publication``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number > 1e11:  # milliseconds
        number /= 1000
    if not 0 < number < 4e9:
        return None
    return datetime.fromtimestamp(number, UTC)


DateOrder = Literal["dmy", "mdy"]
#: Vietnamese pages and feeds write the day first ("05/09/2026" is 5 September)
DAY_FIRST: DateOrder = "dmy"

_NUMERIC_RE = re.compile(
    r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"
    # possessive spaces, as in _ISO_RE (quadratic on a run of spaces before junk)
    r"(?:\s*+(?:[-,]\s*+)?(\d{1,2}):(\d{2})(?::(\d{2}))?\s*+([AaPp][Mm])?)?\s*$"
)


def parse_numeric_datetime(
    text: str, *, order: DateOrder = DAY_FIRST, default_tz: timezone | ZoneInfo = VN_TZ
) -> datetime | None:
    """``05/09/2026 13:30``, ``25/09/2026``, ``9/5/2026 1:30:00 PM`` ... in local time, or None.

    ``order`` is the site's (profile data): ``"dmy"`` (the default, as Vietnamese sites write
    dates) or ``"mdy"`` (a few feeds write US dates). A date impossible in that order is None:
    the order is never guessed from the numbers.
    """
    m = _NUMERIC_RE.match(text)
    if not m:
        return None
    first, second_, year, hour, minute, second, ampm = m.groups()
    day, month = (first, second_) if order == "dmy" else (second_, first)
    h = int(hour or 0)
    if ampm:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if ampm.upper() == "PM" else 0)
    try:
        value = datetime(int(year), int(month), int(day), h, int(minute or 0), int(second or 0))
    except ValueError:
        return None
    return _utc(value, default_tz)


def parse_us_datetime(text: str, default_tz: timezone | ZoneInfo = VN_TZ) -> datetime | None:
    """US ``M/D/YYYY h:mm:ss AM/PM`` (or 24-hour, or date only) in local time, or None.

    Only for sources known to write US dates (profile ``date_order = "mdy"``).
    """
    return parse_numeric_datetime(text, order="mdy", default_tz=default_tz)
