"""Business hours: when a team is open, read from a small TOML file.

Calendar hours stay the default, because the customer's clock never stops. A calendar
lets valueclock also say how many *working* hours a case took::

    timezone = "Europe/Amsterdam"
    holidays = ["2026-12-25", "2026-12-26"]
    [hours]
    mon = ["09:00-17:00"]
    tue = ["09:00-12:00", "13:00-17:00"]
    wed = ["09:00-17:00"]
    thu = ["09:00-17:00"]
    fri = ["09:00-17:00"]

    [teams.Engineering]                 # its own hours; timezone and holidays as above
    hours = { mon = ["08:00-18:00"], tue = ["08:00-18:00"] }

A weekday left out is closed; hours are local to ``timezone`` (default UTC), so they
follow daylight-saving changes; a holiday is closed all day; ``24:00`` ends a day. A
``[teams.NAME]`` table has the same keys, and a key it leaves out is taken from the top
level (a team's ``hours`` replaces the top-level ``hours`` as a whole).

This module only reads the file and expands it, in Python, into a small table of open
windows in UTC (:meth:`Calendar.windows`); the engine measures with that table in pure
Ibis (``valueclock.engine.business``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa

from valueclock.errors import InputError

__all__ = ["Calendar", "Schedule", "Windows", "load_calendar", "WEEKDAYS"]

US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {**{d: i for i, d in enumerate(WEEKDAYS)},
              **{n: i for i, n in enumerate(("monday", "tuesday", "wednesday", "thursday",
                                              "friday", "saturday", "sunday"))}}
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_KEYS = ("timezone", "holidays", "hours")
_EPOCH = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))


@dataclass(frozen=True)
class Schedule:
    """One calendar: a time zone, holidays, and opening hours per weekday.

    ``hours[w]`` holds ``(start, end)`` minutes after local midnight for weekday ``w``
    (0 is Monday); ``end`` may be 1440 (``24:00``).
    """

    timezone: str = "UTC"
    holidays: frozenset[date] = frozenset()
    hours: tuple[tuple[tuple[int, int], ...], ...] = ((),) * 7

    def open_windows(self, first: date, last: date) -> list[tuple[int, int]]:
        """Open windows between local dates ``first`` and ``last`` (included), as sorted,
        merged ``(start, end)`` microseconds since 1970 UTC."""
        tz = ZoneInfo(self.timezone)
        out: list[tuple[int, int]] = []
        day = first
        while day <= last:
            if day not in self.holidays:
                for start, end in self.hours[day.weekday()]:
                    a, b = _utc_us(day, start, tz), _utc_us(day, end, tz)
                    if b > a:
                        out.append((a, b))
            day += timedelta(days=1)
        out.sort()
        merged: list[tuple[int, int]] = []
        for a, b in out:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        return merged

    def describe(self) -> dict[str, Any]:
        """The schedule as plain data (for JSON output)."""
        return {
            "timezone": self.timezone,
            "holidays": sorted(d.isoformat() for d in self.holidays),
            "hours": {WEEKDAYS[w]: [f"{_hhmm(a)}-{_hhmm(b)}" for a, b in self.hours[w]]
                      for w in range(7) if self.hours[w]},
        }


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _utc_us(day: date, minutes: int, tz: ZoneInfo) -> int:
    """Microseconds since 1970 UTC of local wall time ``day`` + ``minutes`` in ``tz``.

    A wall time skipped by a daylight-saving change (02:30 on the spring-forward night)
    is read with the offset before the change, i.e. as the instant the clocks jumped
    over; a repeated one (02:30 on the fall-back night) is its first occurrence.
    """
    if minutes >= 1440:
        day, minutes = day + timedelta(days=1), minutes - 1440
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz)
    delta = local - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * US_PER_SECOND + delta.microseconds


@dataclass(frozen=True)
class Windows:
    """A calendar expanded for the engine.

    ``table`` has one row per calendar and UTC day: ``_w_cal`` (0 the top level, then the
    teams in ``team_ids``), ``_w_day`` (days since ``base_us``), ``_w_cum`` (open
    microseconds of that calendar from ``base_us`` to the start of the day) and
    ``_w_s{k}``/``_w_e{k}`` for ``k < pieces``: the day's open windows (padding is 0-0).
    """

    table: pa.Table
    base_us: int
    pieces: int
    team_ids: dict[str, int]


@dataclass(frozen=True)
class Calendar:
    """Business hours: a top-level :class:`Schedule` and optional per-team ones."""

    default: Schedule
    teams: Mapping[str, Schedule] = field(default_factory=dict)
    source: str | None = None

    @classmethod
    def load(cls, path: str | Path) -> Calendar:
        """Read a calendar TOML file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError("calendar file not found", path=str(path)) from None
        except OSError as exc:
            raise InputError(f"cannot read the calendar: {exc.strerror}",
                             path=str(path)) from None
        return cls.loads(text, source=str(path))

    @classmethod
    def loads(cls, text: str, source: str | None = None) -> Calendar:
        """Read a calendar from TOML text."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"not a valid TOML calendar: {exc}", path=source) from None
        return cls.from_dict(data, source=source)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str | None = None) -> Calendar:
        """A calendar from the parsed TOML (a dict with the keys of the file)."""
        unknown = sorted(set(data) - {*_KEYS, "teams"})
        if unknown:
            raise InputError(f"unknown calendar key {unknown[0]!r} (use timezone, holidays, "
                             "hours, teams)", path=source)
        if "hours" not in data:
            raise InputError("the calendar has no [hours] table (a weekday left out is "
                             "closed, so give at least one)", path=source)
        default = _schedule(data, {}, "", source)
        teams_data = data.get("teams", {})
        if not isinstance(teams_data, Mapping):
            raise InputError("'teams' must be a table of [teams.NAME] tables", path=source)
        teams = {}
        for name, table in teams_data.items():
            if not isinstance(table, Mapping):
                raise InputError(f"[teams.{name}] must be a table", path=source)
            teams[str(name)] = _schedule(table, data, f"teams.{name}.", source)
        return cls(default=default, teams=teams, source=source)

    def schedule(self, team: str | None = None) -> Schedule:
        """The schedule a team's holds are measured in (the top level for others)."""
        if team is not None and team in self.teams:
            return self.teams[team]
        return self.default

    def describe(self) -> dict[str, Any]:
        """The calendar as plain data: source, top-level schedule and teams."""
        return {"source": self.source, **self.default.describe(),
                "teams": {n: s.describe() for n, s in sorted(self.teams.items())}}

    def windows(self, start_us: int, end_us: int) -> Windows:
        """Expand every schedule over ``[start_us, end_us]`` (microseconds since 1970 UTC),
        with a margin, into the table the engine joins on."""
        names = sorted(self.teams)
        team_ids = {name: i + 1 for i, name in enumerate(names)}
        schedules = [self.default] + [self.teams[n] for n in names]
        first_day = start_us // US_PER_DAY - 2
        last_day = end_us // US_PER_DAY + 2
        base_us = first_day * US_PER_DAY
        n_days = last_day - first_day + 1
        per_cal = []
        for sched in schedules:
            tz = ZoneInfo(sched.timezone)
            lo = datetime.fromtimestamp((base_us - US_PER_DAY) // US_PER_SECOND, tz).date()
            hi = datetime.fromtimestamp((base_us + (n_days + 1) * US_PER_DAY)
                                        // US_PER_SECOND, tz).date()
            per_cal.append(_split_by_day(sched.open_windows(lo, hi), base_us, n_days))
        pieces = max(1, max((len(p) for days in per_cal for _, p in days), default=1))
        cols: dict[str, list[int]] = {"_w_cal": [], "_w_day": [], "_w_cum": []}
        for k in range(pieces):
            cols[f"_w_s{k}"] = []
            cols[f"_w_e{k}"] = []
        for cal, days in enumerate(per_cal):
            for day, (cum, parts) in enumerate(days):
                cols["_w_cal"].append(cal)
                cols["_w_day"].append(day)
                cols["_w_cum"].append(cum)
                for k in range(pieces):
                    a, b = parts[k] if k < len(parts) else (0, 0)
                    cols[f"_w_s{k}"].append(a)
                    cols[f"_w_e{k}"].append(b)
        table = pa.table({k: pa.array(v, pa.int64()) for k, v in cols.items()})
        return Windows(table=table, base_us=base_us, pieces=pieces, team_ids=team_ids)

    def business_us(self, team: str | None, start_us: int, end_us: int) -> int:
        """Open microseconds of ``team``'s schedule between two moments (plain Python,
        for checks and small uses; the engine does the same in Ibis)."""
        if end_us <= start_us:
            return 0
        sched = self.schedule(team)
        tz = ZoneInfo(sched.timezone)
        lo = datetime.fromtimestamp(start_us // US_PER_SECOND - 86_400 * 2, tz).date()
        hi = datetime.fromtimestamp(end_us // US_PER_SECOND + 86_400 * 2, tz).date()
        return sum(max(0, min(b, end_us) - max(a, start_us))
                   for a, b in sched.open_windows(lo, hi))


def _split_by_day(windows: list[tuple[int, int]], base_us: int,
                  n_days: int) -> list[tuple[int, list[tuple[int, int]]]]:
    """Per UTC day from ``base_us``: open microseconds before the day, and its pieces."""
    days: list[tuple[int, list[tuple[int, int]]]] = []
    i, cum = 0, 0
    # Open time before base_us is not counted: the clock starts at base_us.
    windows = [(max(a, base_us), b) for a, b in windows if b > base_us]
    for d in range(n_days):
        lo, hi = base_us + d * US_PER_DAY, base_us + (d + 1) * US_PER_DAY
        parts: list[tuple[int, int]] = []
        j = i
        while j < len(windows) and windows[j][0] < hi:
            a, b = windows[j]
            if b > lo:
                parts.append((max(a, lo), min(b, hi)))
            j += 1
        days.append((cum, parts))
        cum += sum(b - a for a, b in parts)
        while i < len(windows) and windows[i][1] <= hi:
            i += 1
    return days


def _schedule(data: Mapping[str, Any], parent: Mapping[str, Any], where: str,
              source: str | None) -> Schedule:
    unknown = sorted(set(data) - set(_KEYS) - ({"teams"} if not where else set()))
    if unknown:
        raise InputError(f"unknown key {where}{unknown[0]!r} (use timezone, holidays, hours)",
                         path=source)
    merged = {k: data[k] if k in data else parent.get(k) for k in _KEYS}
    tz_name = merged["timezone"] if merged["timezone"] is not None else "UTC"
    if not isinstance(tz_name, str):
        raise InputError(f"{where}timezone must be text such as \"Europe/Amsterdam\"",
                         path=source)
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"{where}timezone {tz_name!r} is not a known time zone (use an "
                         "IANA name such as Europe/Amsterdam)", path=source) from None
    holidays = set()
    for item in merged["holidays"] or []:
        if isinstance(item, datetime):
            item = item.date()
        if isinstance(item, date):
            holidays.add(item)
            continue
        try:
            holidays.add(date.fromisoformat(str(item).strip()))
        except ValueError:
            raise InputError(f"{where}holidays: {item!r} is not a date such as 2026-12-25",
                             path=source) from None
    hours_data = merged["hours"] or {}
    if not isinstance(hours_data, Mapping):
        raise InputError(f"{where}hours must be a table of weekdays", path=source)
    hours: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for key, ranges in hours_data.items():
        day = _DAY_NAMES.get(str(key).strip().lower())
        if day is None:
            raise InputError(f"{where}hours: unknown weekday {key!r} (use "
                             f"{', '.join(WEEKDAYS)})", path=source)
        if isinstance(ranges, str):
            ranges = [ranges]
        if not isinstance(ranges, list):
            raise InputError(f"{where}hours.{key} must be a list such as [\"09:00-17:00\"]",
                             path=source)
        for text in ranges:
            hours[day].append(_range(text, f"{where}hours.{key}", source))
    return Schedule(timezone=tz_name, holidays=frozenset(holidays),
                    hours=tuple(tuple(sorted(h)) for h in hours))


def _range(text: Any, where: str, source: str | None) -> tuple[int, int]:
    match = _RANGE.match(str(text))
    if not match:
        raise InputError(f"{where}: {text!r} is not a range such as \"09:00-17:00\"",
                         path=source)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or start > 1440 or end > 1440 or start >= 1440:
        raise InputError(f"{where}: {text!r} is not a time of day (00:00 to 24:00)",
                         path=source)
    if end <= start:
        raise InputError(f"{where}: {text!r} ends before it starts; split a range across "
                         "midnight in two: \"22:00-24:00\" on one day, \"00:00-06:00\" on "
                         "the next", path=source)
    return start, end


def load_calendar(calendar: Calendar | str | Path | Mapping[str, Any] | None
                  ) -> Calendar | None:
    """A :class:`Calendar` from a path, a parsed dict, or a calendar (None stays None)."""
    if calendar is None or isinstance(calendar, Calendar):
        return calendar
    if isinstance(calendar, Mapping):
        return Calendar.from_dict(calendar)
    return Calendar.load(calendar)
