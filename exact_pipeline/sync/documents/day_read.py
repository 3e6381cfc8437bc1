"""Reading Exact back a whole day at a time, for the checks' read after a day is over.

By document, a read costs a GET per 60 (an `or` filter of GUIDs, `verified.READ_PER_CALL`); a
day of a division read by its date on a bulk endpoint costs one GET per 1,000 rows (reference
§4 "1000 on bulk/* and sync/*", `$filter` `ge`/`lt` on a `datetime'…'` literal). So a day with
more documents due than one GET by document holds is read by its date; the other documents
are read by document, as before.

The day's read only confirms: a document whose values in it equal what Exact was last seen to
hold is confirmed as read now; any other (changed or deleted in Exact, or re-dated there so
the day's read misses it) is read by its ID as before, so what a check reports never rests on
the day's read alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from exact_pipeline.exact.odata import literal
from exact_pipeline.sync.documents.ledger import LedgerRow


def split(
    rows: Iterable[LedgerRow], per_call: int
) -> tuple[dict[date, list[LedgerRow]], list[LedgerRow]]:
    """`rows` by the days worth reading by date (more rows than one GET by ID holds), and the
    rest (read by ID)."""
    by_day: dict[date, list[LedgerRow]] = defaultdict(list)
    for row in rows:
        by_day[row.partition_date].append(row)
    days = {day: group for day, group in by_day.items() if len(group) > per_call}
    rest = [row for day, group in by_day.items() if day not in days for row in group]
    return days, rest


def on_day(field: str, day: date) -> str:
    """A `$filter` for the records whose date `field` falls on `day` (Exact's dates are
    midnight, local: reference §4 "Dates")."""
    return f"{field} ge {literal(day)} and {field} lt {literal(day + timedelta(days=1))}"
