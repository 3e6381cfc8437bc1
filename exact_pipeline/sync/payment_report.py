"""What a payment run reports: one row per payment it looked at, counts per outcome, and the
money it moved per currency (decimal strings, receipts minus refunds)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from exact_pipeline.sync.money import sum_text

OUTCOMES = (
    "pushed",  # a bank entry in Exact now carries it (this run)
    "imported",  # written into billing (this run)
    "already_done",  # pushed or imported by an earlier run: no call
    "waiting",  # its document is not in Exact yet: a later run pushes it
    "blocked",  # cannot go as it is: `reason` says why and what to do
    "failed",  # Exact failed: the next run retries (looking it up first)
    "reported",  # read from Exact but not written into billing: `reason`
    "from_exact",  # a billing payment that came from Exact: never pushed back
    "from_billing",  # an Exact payment we pushed from billing: never imported back
    "in_progress",  # another run holds it right now
    "not_reached",  # left for the next run because the division stopped (see `stopped`)
)


@dataclass
class PaymentReport:
    mode: str  # the payment_sync setting the run acted on
    rows: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    amounts: dict[str, str] = field(default_factory=dict)  # per currency, this run's money
    stopped: str | None = None  # why some payments were left, in plain words

    def __post_init__(self) -> None:
        self._moved: dict[str, list[int]] = defaultdict(list)  # minor units; not a field

    def add(self, outcome: str, row: dict[str, Any]) -> None:
        self.counts[outcome] += 1
        self.rows.append({**row, "outcome": outcome})

    def moved(self, currency: str, signed_minor: int) -> None:
        """Money this run recorded on the other side (a refund negative)."""
        self._moved[currency].append(signed_minor)
        self.amounts[currency] = sum_text(self._moved[currency], currency)
