import datetime as dt

import pytest

from kg.dates import PartialDate


@pytest.mark.parametrize(
    "text,first,last,precision",
    [
        ("2017", dt.date(2017, 1, 1), dt.date(2017, 12, 31), "year"),
        (2017, dt.date(2017, 1, 1), dt.date(2017, 12, 31), "year"),
        ("2017-04", dt.date(2017, 4, 1), dt.date(2017, 4, 30), "month"),
        ("2016-02", dt.date(2016, 2, 1), dt.date(2016, 2, 29), "month"),
        ("2017-04-01", dt.date(2017, 4, 1), dt.date(2017, 4, 1), "day"),
        (dt.date(2017, 4, 1), dt.date(2017, 4, 1), dt.date(2017, 4, 1), "day"),
    ],
)
def test_precision_and_span(text, first, last, precision):
    d = PartialDate.parse(text)
    assert (d.first, d.last, d.precision) == (first, last, precision)


@pytest.mark.parametrize(
    "bad",
    ["2017-13", "2017-02-30", "17-04", "April 2017", "2017/04/01", "", True, 3.5, "0000", "2017-4"],
)
def test_bad_dates(bad):
    with pytest.raises(ValueError):
        PartialDate.parse(bad)


def test_str_keeps_precision():
    assert [str(PartialDate.parse(x)) for x in ("2017", "2017-04", "2017-04-01")] == [
        "2017",
        "2017-04",
        "2017-04-01",
    ]
