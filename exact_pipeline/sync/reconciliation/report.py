"""A month's reconciliation as a controller reads it: a CSV file to keep with the month's
books, and the same content as markdown for the UI. Amounts are decimal strings in the
document's currency, signed as Exact books them (credit notes negative)."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from exact_pipeline.sync.core.money import amount_text
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents import ledger
from exact_pipeline.sync.reconciliation.compare import Comparison, Difference, Measure

CSV_COLUMNS = (
    "section",  # status | totals | document
    "division",
    "currency",
    "measure",  # totals: what is summed; document: the kind of difference
    "number",
    "issued",
    "state",  # the sync ledger's state of the document
    "billing",
    "exact",
    "difference",  # billing minus Exact
    "billing_vat",
    "exact_vat",
    "billing_paid",
    "exact_paid",
    "explained",
    "explanation",
)
MAX_MARKDOWN_ROWS = 200  # the UI stays readable; the CSV holds every row


@dataclass(frozen=True)
class MonthReport:
    month: str  # the partition key, e.g. "2026-11"
    window: Window
    comparison: Comparison
    states: dict[str, int]  # the month's documents per ledger state
    api_calls: int  # what reading Exact cost, as Exact counted it
    not_read: dict[int, str]  # division → why Exact was not read (its budget, its access)
    minutes_behind: int  # age of the oldest document billing has and Exact does not

    @property
    def differences(self) -> list[Difference]:
        return self.comparison.differences

    @property
    def unexplained(self) -> list[Difference]:
        return [d for d in self.differences if not d.explained]

    @property
    def reconciled(self) -> bool:
        """Every division read and not one difference: what a controller signs."""
        return not self.not_read and not self.differences

    def sentence(self) -> str:
        if self.not_read:
            return "Not reconciled: " + " ".join(self.not_read.values())
        if not self.differences:
            return f"{self.month}: billing and Exact agree to the cent."
        return (
            f"{self.month}: {len(self.differences)} document(s) differ, "
            f"{len(self.unexplained)} of them unexplained."
        )

    def figures(self) -> dict[str, int]:
        """The numbers Dagster plots across months."""
        return {
            "synced": self.states.get(ledger.SYNCED, 0),
            "blocked": self.states.get(ledger.BLOCKED, 0),
            "failed": self.states.get(ledger.FAILED, 0),
            "differences": len(self.differences),
            "unexplained": len(self.unexplained),
            "api_calls": self.api_calls,
            "minutes_behind": self.minutes_behind,
        }

    # --- CSV -------------------------------------------------------------------------------

    def csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self._csv_rows())
        return out.getvalue()

    def write_csv(self, folder: Path) -> Path:
        """`reconciliation-<month>.csv` in `folder`, replaced whole (never half-written)."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"reconciliation-{self.month}.csv"
        partial = path.with_suffix(".csv.partial")
        partial.write_text(self.csv_text(), encoding="utf-8")
        os.replace(partial, path)
        return path

    def _csv_rows(self) -> Iterator[dict[str, str]]:
        yield {
            "section": "status",
            "measure": "reconciled" if self.reconciled else "not reconciled",
            "explanation": self.sentence(),
        }
        for division, why in sorted(self.not_read.items()):
            yield {"section": "status", "division": str(division), "explanation": why}
        for group in self.comparison.groups:
            for measure in group.measures:
                yield {
                    "section": "totals",
                    "division": _division(group.division),
                    "currency": group.currency,
                    "measure": measure.name,
                    "billing": _figure(measure.billing, measure, group.currency),
                    "exact": _figure(measure.exact, measure, group.currency),
                    "difference": _figure(measure.difference, measure, group.currency),
                }
        for d in self.differences:
            yield {
                "section": "document",
                "division": _division(d.division),
                "currency": d.currency,
                "measure": d.kind,
                "number": d.number,
                "issued": d.issued,
                "state": d.state,
                "billing": d.billing_total,
                "exact": d.exact_total,
                "difference": d.difference,
                "billing_vat": d.billing_vat,
                "exact_vat": d.exact_vat,
                "billing_paid": d.billing_paid,
                "exact_paid": d.exact_paid,
                "explained": "yes" if d.explained else "no",
                "explanation": d.explanation,
            }

    # --- markdown ----------------------------------------------------------------------------

    def totals_markdown(self) -> str:
        """Per division and currency, billing's figures beside Exact's."""
        lines = [
            "| division | currency | measure | billing | Exact | difference |",
            "|---|---|---|---:|---:|---:|",
        ]
        for group in self.comparison.groups:
            for m in group.measures:
                cells = [
                    _division(group.division),
                    group.currency,
                    m.name,
                    _figure(m.billing, m, group.currency),
                    _figure(m.exact, m, group.currency) or "not read",
                    _figure(m.difference, m, group.currency),
                ]
                lines.append(_row(cells))
        if not self.comparison.groups:
            lines.append(_row(["", "", "no documents this month", "", "", ""]))
        return "\n".join(lines)

    def differences_markdown(self) -> str:
        """The documents that differ, unexplained ones first, each with its explanation."""
        if not self.differences:
            return "No differences." if not self.not_read else self.sentence()
        ordered = sorted(self.differences, key=lambda d: (d.explained, d.issued, d.number))
        lines = [
            "| number | issued | division | difference | state | billing | Exact | explanation |",
            "|---|---|---|---|---|---:|---:|---|",
        ]
        lines += [
            _row(
                [
                    d.number,
                    d.issued,
                    _division(d.division),
                    d.kind,
                    d.state,
                    d.billing_total,
                    d.exact_total,
                    d.explanation,
                ]
            )
            for d in ordered[:MAX_MARKDOWN_ROWS]
        ]
        if len(ordered) > MAX_MARKDOWN_ROWS:
            lines.append(f"\n{MAX_MARKDOWN_ROWS} of {len(ordered)} shown; the CSV lists all.")
        return "\n".join(lines)


def _division(division: int | None) -> str:
    return "(no division)" if division is None else str(division)


def _figure(value: Decimal | None, measure: Measure, currency: str) -> str:
    if value is None:
        return ""
    return amount_text(value, currency) if measure.money else str(int(value))


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"
