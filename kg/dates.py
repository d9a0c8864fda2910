"""Dates with precision: ``2017``, ``2017-04`` or ``2017-04-01``.

A date of lower precision covers its whole span: ``2017-04`` is 2017-04-01 to 2017-04-30.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")

YEAR, MONTH, DAY = "year", "month", "day"


@dataclass(frozen=True, order=True)
class PartialDate:
    first: dt.date
    last: dt.date
    precision: str

    def __str__(self) -> str:
        if self.precision == YEAR:
            return f"{self.first.year:04d}"
        if self.precision == MONTH:
            return f"{self.first.year:04d}-{self.first.month:02d}"
        return self.first.isoformat()

    @classmethod
    def parse(cls, value: object) -> PartialDate:
        """Parse a YAML/JSON value; raises ValueError with a curator-readable message."""
        if isinstance(value, PartialDate):
            return value
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return cls(value, value, DAY)
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError(f"expected a date like 2017, 2017-04 or 2017-04-01, got {value!r}")
        text = str(value).strip()
        m = _PATTERN.match(text)
        if not m:
            raise ValueError(f"expected a date like 2017, 2017-04 or 2017-04-01, got {value!r}")
        year = int(m.group(1))
        if year < 1:
            raise ValueError(f"year 0000 does not exist: {value!r}")
        if m.group(2) is None:
            return cls(dt.date(year, 1, 1), dt.date(year, 12, 31), YEAR)
        month = int(m.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"month {month} does not exist: {value!r}")
        if m.group(3) is None:
            last = calendar.monthrange(year, month)[1]
            return cls(dt.date(year, month, 1), dt.date(year, month, last), MONTH)
        day = int(m.group(3))
        try:
            d = dt.date(year, month, day)
        except ValueError:
            raise ValueError(f"{text} is not a day of the calendar") from None
        return cls(d, d, DAY)


# --- One interval rule -------------------------------------------------------------------
# A recorded date stands for the days it may have been: a date at any precision is its span
# (2017-04 is 1 to 30 April); a bound opens one side (`on-or-before 2017-04` is any day up to
# 30 April 2017, `on-or-after 2017-04` any day from 1 April 2017). Against that interval:
#   within(since, until)  the whole interval lies in the range: certainly inside it;
#   overlaps(since, until) some day of it lies in the range: possibly inside it;
#   known_by(day)          its last possible day is on or before `day`: certainly by then.
# A range given at lower precision covers its span too (since 2017-04 is from 1 April, until
# 2017-04 up to 30 April; as of 2017-04 means by 30 April). Cypher can use the same rule:
# nodes carry `start` (first day), `end` (last day), `date_bound`, and sources `known_by`
# (see kg.mapping and docs/writing-queries.md).

BOUNDS = ("on-or-before", "on-or-after")


@dataclass(frozen=True)
class Interval:
    lo: dt.date | None  # None: open (no earliest day)
    hi: dt.date | None  # None: open (no latest day)


def interval(
    date: PartialDate | None,
    bound: str | None = None,
    *,
    start: PartialDate | None = None,
    end: PartialDate | None = None,
) -> Interval | None:
    """The days a recorded date may stand for; None when there is no date at all."""
    if date is not None:
        if bound == "on-or-before":
            return Interval(None, date.last)
        if bound == "on-or-after":
            return Interval(date.first, None)
        return Interval(date.first, date.last)
    if start is None and end is None:
        return None
    return Interval(start.first if start else None, end.last if end else None)


def _first(d: PartialDate | dt.date | None) -> dt.date | None:
    return d.first if isinstance(d, PartialDate) else d


def _last(d: PartialDate | dt.date | None) -> dt.date | None:
    return d.last if isinstance(d, PartialDate) else d


def within(
    iv: Interval | None,
    since: PartialDate | dt.date | None = None,
    until: PartialDate | dt.date | None = None,
) -> bool:
    """Certainly inside the range (an undated thing is within only an unbounded range)."""
    a, b = _first(since), _last(until)
    if iv is None:
        return a is None and b is None
    if a is not None and (iv.lo is None or iv.lo < a):
        return False
    if b is not None and (iv.hi is None or iv.hi > b):
        return False
    return True


def overlaps(
    iv: Interval | None,
    since: PartialDate | dt.date | None = None,
    until: PartialDate | dt.date | None = None,
) -> bool:
    """Possibly inside the range (an undated thing overlaps only an unbounded range)."""
    a, b = _first(since), _last(until)
    if iv is None:
        return a is None and b is None
    if a is not None and iv.hi is not None and iv.hi < a:
        return False
    if b is not None and iv.lo is not None and iv.lo > b:
        return False
    return True


def known_by(iv: Interval | None, day: PartialDate | dt.date) -> bool:
    """Certainly so by the end of `day` (its last day when given at lower precision)."""
    last = _last(day)
    return iv is not None and iv.hi is not None and last is not None and iv.hi <= last


def certain_by(iv: Interval | None) -> dt.date | None:
    """The first day by which it is certainly so: `known_by(iv, d)` is `certain_by(iv) <= d`."""
    return None if iv is None else iv.hi
