"""When a cost centre or cost unit may go on a line: it exists, is active, and has not ended.

Exact documents `Active` (cost centres; marked obsolete but served) and `EndDate` (both) on
hrm/Costcenters and hrm/Costunits; whether it refuses a line naming an ended one is not
documented, so the pipeline never sends one: the mapping check reports it, and a document dated
on or after the end is blocked with the fix rather than posted.
"""

from __future__ import annotations

from datetime import date

from exact_pipeline.exact.models import CostCenter, CostUnit


def unusable(record: CostCenter | CostUnit, day: date) -> str | None:
    """Why `record` cannot go on a line dated `day` (worded to follow its code), or None."""
    if getattr(record, "Active", None) is False:
        return "is inactive"
    if record.EndDate is not None and record.EndDate.date() <= day:
        return f"ended on {record.EndDate.date().isoformat()}"
    return None
