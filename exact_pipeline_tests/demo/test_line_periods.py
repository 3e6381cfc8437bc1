"""The demo's subscription and usage lines carry their service period (a whole month, both days
included: the billed month, or the month used for usage billed in arrears); one-off lines none.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from exact_pipeline.demo import catalog
from exact_pipeline.demo.documents import generate_demo_data

KINDS = {p.id: p.kind for p in catalog.PRODUCTS}


def test_subscription_and_usage_lines_bill_a_month() -> None:
    data = generate_demo_data(seed=3, customers=30, months=3, today=date(2026, 11, 23))
    seen = set()
    for document in data.documents:
        if document.type != "invoice":
            continue
        issued = document.issued_at.astimezone(ZoneInfo(document.entity.timezone))
        for line in document.lines:
            kind = KINDS.get(line.product.id) if line.product else None
            start, end = line.period_start, line.period_end
            if kind == "one_off":
                assert (start, end) == (None, None)
            if kind not in ("subscription", "usage"):
                continue
            assert start is not None and end is not None and start.day == 1
            assert (end + timedelta(days=1)).day == 1 and end.month == start.month
            months_back = (issued.year * 12 + issued.month) - (start.year * 12 + start.month)
            assert months_back == (1 if kind == "usage" else 0)
            seen.add(kind)
    assert seen == {"subscription", "usage"}
