"""Dates as Vietnamese pages print them in visible text.

Day comes first (``01/02/2024`` is 1 February). Examples this module reads:
``Thứ năm - 01/02/2024 11:12``, ``Thứ ba, 23/12/2025 09:02 (GMT+7)``, ``Đăng ngày 26/12/2023``,
``Cập nhật: 11:12, 01/02/2024``, ``08/01/2026 - 18:21``, ``07-03-2026 - 00:01 AM``,
``ngày 1 tháng 2 năm 2024``, ``24/12/2025 09:30:00 +07:00``, ``11h12 ngày 1/2/2024``.
A date without a year (``Chiều 6/1``) is None unless the caller knows the year. Wall time
without a zone is Asia/Ho_Chi_Minh; results are aware UTC datetimes, or None.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from scraper.dates import VN_TZ, to_utc

_DMY_RE = re.compile(r"(?<![\d/.-])(\d{1,2})\s*([/.-])\s*(\d{1,2})\s*\2\s*(\d{4})(?![\d/])")
_YMD_RE = re.compile(r"(?<![\d/.-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d])")
_WORDS_RE = re.compile(
    # possessive: "\s*(?:năm|,)?\s+" split a run of spaces every way (quadratic)
    r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})(?:(?:\s*+(?:năm|,))?\s++(\d{4}))?",
    re.IGNORECASE,
)
_DM_RE = re.compile(r"(?<![\d/.-])(\d{1,2})\s*/\s*(\d{1,2})(?![\d/])")
_TIME_RE = re.compile(
    r"(?<![\d:])(\d{1,2})\s*(?::|h|giờ)\s*(\d{2})(?::(\d{2}))?(?!\d)\s*(AM|PM|SA|CH)?",
    re.IGNORECASE,
)
_ZONE_RE = re.compile(
    r"^\s*\(?\s*(?:GMT|UTC)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\s*\)?", re.IGNORECASE
)
_NEAR = 30  # characters between a date and its time
_ANY_DIGIT = re.compile(r"\d").search


def _valid(year: int, month: int, day: int) -> bool:
    if not (1990 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return False
    try:
        datetime(year, month, day)
    except ValueError:
        return False
    return True


def _find_date(text: str, year: int | None) -> tuple[int, int, int, int, int] | None:
    """(year, month, day, start, end) of the first date in ``text``."""
    found: list[tuple[int, int, int, int, int]] = []
    for m in _DMY_RE.finditer(text):
        d, mo, y = int(m.group(1)), int(m.group(3)), int(m.group(4))
        if _valid(y, mo, d):
            found.append((y, mo, d, m.start(), m.end()))
            break
    for m in _YMD_RE.finditer(text):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if _valid(y, mo, d):
            found.append((y, mo, d, m.start(), m.end()))
            break
    for m in _WORDS_RE.finditer(text):
        d, mo = int(m.group(1)), int(m.group(2))
        y2 = int(m.group(3)) if m.group(3) else year
        if y2 is not None and _valid(y2, mo, d):
            found.append((y2, mo, d, m.start(), m.end()))
            break
    if not found and year is not None:
        for m in _DM_RE.finditer(text):
            d, mo = int(m.group(1)), int(m.group(2))
            if _valid(year, mo, d):
                found.append((year, mo, d, m.start(), m.end()))
                break
    return min(found, key=lambda f: f[3]) if found else None


def _time_near(text: str, start: int, end: int) -> tuple[int, int, int, int] | None:
    """(hour, minute, second, end-of-match) of the time closest to the date span."""
    best: tuple[int, tuple[int, int, int, int]] | None = None
    lo, hi = max(0, start - _NEAR), min(len(text), end + _NEAR)
    for m in _TIME_RE.finditer(text, lo, hi):
        if start <= m.start() < end:
            continue
        hour, minute = int(m.group(1)), int(m.group(2))
        second = int(m.group(3) or 0)
        ampm = (m.group(4) or "").upper()
        if ampm in ("PM", "CH") and hour < 12:
            hour += 12
        elif ampm in ("AM", "SA") and hour == 12:
            hour = 0
        if hour > 23 or minute > 59 or second > 59:
            continue
        distance = m.start() - end if m.start() >= end else start - m.end()
        if best is None or distance < best[0]:
            best = (distance, (hour, minute, second, m.end()))
    return best[1] if best else None


def parse_vn_datetime(text: str, *, year: int | None = None) -> datetime | None:
    """The first date (with its time and zone, when printed) in ``text``, in UTC, or None.

    ``year`` is used only for dates printed without one (``Chiều 6/1``).
    """
    if not text or len(text) > 2000:
        text = text[:2000] if text else ""
        if not text:
            return None
    if _ANY_DIGIT(text) is None:  # every form of date has digits: most paragraphs stop here
        return None
    found = _find_date(text, year)
    if found is None:
        return None
    y, mo, d, start, end = found
    hour = minute = second = 0
    zone_from = end
    t = _time_near(text, start, end)
    if t is not None:
        hour, minute, second, t_end = t
        zone_from = max(end, t_end)
    value = datetime(y, mo, d, hour, minute, second)
    zm = _ZONE_RE.match(text[zone_from : zone_from + 20])
    if zm and (
        zm.group(3)
        or "(" in zm.group(0)
        or "GMT" in zm.group(0).upper()
        or "UTC" in zm.group(0).upper()
    ):
        sign = -1 if zm.group(1) == "-" else 1
        hours, minutes = int(zm.group(2)), int(zm.group(3) or 0)
        if hours <= 14 and minutes < 60:
            value = value.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
    return to_utc(value, VN_TZ)


_UPDATED_LABEL_RE = re.compile(r"cập\s*nhật|updated?|sửa\s*lúc|chỉnh\s*sửa", re.IGNORECASE)
_PUBLISHED_LABEL_RE = re.compile(
    r"đăng\s*(?:ngày|lúc|tải)?|ngày\s*đăng|xuất\s*bản|published", re.IGNORECASE
)


def labeled_dates(text: str, *, year: int | None = None) -> tuple[datetime | None, datetime | None]:
    """(published, updated) from a date line; ``Cập nhật ...`` marks an update.

    A line with one unlabeled date gives it as published. ``year`` is for dates printed
    without one, as in ``parse_vn_datetime``.
    """
    text = text[:2000]
    upd = _UPDATED_LABEL_RE.search(text)
    if upd is None:
        return parse_vn_datetime(text, year=year), None
    before, after = text[: upd.start()], text[upd.start() :]
    pub_label = _PUBLISHED_LABEL_RE.search(after)
    if pub_label is not None:
        # "Cập nhật: X ... Đăng: Y"
        return parse_vn_datetime(after[pub_label.start() :], year=year), parse_vn_datetime(
            after[: pub_label.start()], year=year
        )
    return parse_vn_datetime(before, year=year), parse_vn_datetime(after, year=year)


_DATE_WORDS_RE = re.compile(
    r"thứ\s+(?:hai|ba|tư|năm|sáu|bảy|2|3|4|5|6|7)|chủ\s+nhật|cập\s*nhật|đăng\s*(?:ngày|lúc)?|"
    r"ngày|tháng|năm|lúc|giờ|sáng|trưa|chiều|tối|gmt|utc|am|pm|lượt xem|xem|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|published|updated",
    re.IGNORECASE,
)


def is_date_line(text: str) -> bool:
    """True for a line that is only a dateline ("Thứ năm - 01/02/2024 11:12 265")."""
    if len(text) > 90 or parse_vn_datetime(text) is None:
        return False
    rest = _DATE_WORDS_RE.sub(" ", text)
    rest = re.sub(r"[\d\W_]+", " ", rest)
    return len(rest.split()) <= 1
