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
    def parse(cls, value: object) -> "PartialDate":
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
