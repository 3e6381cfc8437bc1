"""What a payment run reports: one row per payment it looked at, counts per outcome, and the
money it moved per currency (decimal strings, receipts minus refunds)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from exact_pipeline.sync.core.money import sum_text
from exact_pipeline.sync.core.outcomes import PAYMENT_OUTCOMES


@dataclass
class PaymentReport:
    mode: str  # the payment_sync setting the run acted on
    rows: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PAYMENT_OUTCOMES, 0))
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
