"""When: time expressions in a question ("this week", "in June", "2023") to a date window."""

from __future__ import annotations

import calendar
import re
import threading
from datetime import date, datetime, timedelta
from functools import lru_cache

# cheap pre-check so most questions never reach the (slower) parser
_CUE = re.compile(
    r"\b(today|yesterday|tonight|this|last|past|ago|week|weeks|month|months|year|years|"
    r"january|february|march|april|may|june|july|august|september|october|november|december|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|(19|20)\d\d)\b",
    re.IGNORECASE,
)
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _parser():  # type: ignore[no-untyped-def]
    from dateparser.search import search_dates

    return search_dates


def window(question: str, today: date) -> tuple[date, date] | None:
    """The dates a question's time expression points at, relative to `today`, or None.

    >>> window("Who resigned last week?", date(2022, 7, 8))
    (datetime.date(2022, 6, 25), datetime.date(2022, 7, 2))
    >>> window("What happened in June?", date(2022, 7, 8))
    (datetime.date(2022, 6, 1), datetime.date(2022, 7, 3))
    >>> window("Who won the cup?", date(2022, 7, 8)) is None
    True
    """
    if not _CUE.search(question):
        return None
    base = datetime.combine(today, datetime.min.time())
    settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past"}
    with _lock:  # dateparser keeps global state; serialise calls from UI threads
        found = _parser()(question, languages=["en"], settings=settings)
        if not found:
            return None
        from dateparser.date import DateDataParser

        data = DateDataParser(languages=["en"], settings=settings).get_date_data(found[0][0])
    if data.date_obj is None:
        return None
    return span(data.date_obj.date(), data.period or "day")


def anchor(as_of: date | None, today: date) -> int:
    """The day (an ordinal) an article's age is measured from: the as-of date, else today.
    Never the newest article's date: one dated in the future would age every other one.
    Articles after it count as age 0.

    >>> anchor(None, date(2025, 1, 2)) == date(2025, 1, 2).toordinal()
    True
    """
    return (as_of or today).toordinal()


def span(d: date, period: str) -> tuple[date, date]:
    """The publication dates that can report on `d` at the given granularity.

    News about a day appears that day or the next; about a week, in the week up to it;
    about a month or a year, within it (and a few days after a month ends).
    """
    if period == "year":
        return date(d.year, 1, 1), date(d.year, 12, 31)
    if period == "month":
        last = calendar.monthrange(d.year, d.month)[1]
        return date(d.year, d.month, 1), date(d.year, d.month, last) + timedelta(days=3)
    if period == "week":
        return d - timedelta(days=6), d + timedelta(days=1)
    return d - timedelta(days=1), d + timedelta(days=1)
