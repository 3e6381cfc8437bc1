"""What a resync found and did: one row per record that differs (documents, customers,
payments), what the resync did about it, counts, and the calls it cost; as markdown for the UI
and as plain lines for the CLI."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

# What the resync did about a row (`outcome`); `detail` says more in words.
RE_PUSHED = "re_pushed"  # missing in Exact (deleted there): reset and pushed again
PUSHED = "pushed"  # never arrived: pushed now
WOULD_RE_PUSH = "would_re_push"  # dry run
WOULD_PUSH = "would_push"  # dry run
NOT_PUSHED = "not_pushed"  # meant to go, but did not (blocked, budget …): `detail` says why
LISTED = "listed"  # differs, and a person decides (edited in Exact, changed in billing …)
OUTCOMES = (RE_PUSHED, PUSHED, WOULD_RE_PUSH, WOULD_PUSH, NOT_PUSHED, LISTED)
COLUMNS = ("scope", "number", "issued", "division", "difference", "state", "billing", "exact")
MAX_MARKDOWN_ROWS = 200


@dataclass
class ResyncReport:
    first: date  # the range's first day
    last: date  # its last day (included)
    scopes: tuple[str, ...]
    dry_run: bool
    rows: list[dict[str, str]] = field(default_factory=list)
    api_calls: int = 0  # as Exact counted them, over every division
    stopped: list[str] = field(default_factory=list)  # divisions left early, and until when

    def add(self, scope: str, outcome: str, detail: str, **cells: object) -> None:
        row = {
            column: "" if cells.get(column) is None else str(cells[column]) for column in COLUMNS
        }
        self.rows.append(row | {"scope": scope, "outcome": outcome, "detail": detail})

    def counts(self) -> dict[str, int]:
        """Rows per outcome (every outcome present), then per scope and difference."""
        by_outcome = Counter(row["outcome"] for row in self.rows)
        by_kind = Counter(f"{row['scope']}: {row['difference']}" for row in self.rows)
        return (
            {"differences": len(self.rows)}
            | {outcome: by_outcome[outcome] for outcome in OUTCOMES}
            | dict(sorted(by_kind.items()))
        )

    def sentence(self) -> str:
        span = f"{self.first}…{self.last} ({', '.join(self.scopes)})"
        counts = self.counts()
        if self.dry_run:
            done = (
                f"dry run: {counts[WOULD_RE_PUSH]} would be pushed again, "
                f"{counts[WOULD_PUSH]} pushed for the first time"
            )
        else:
            done = f"{counts[RE_PUSHED]} pushed again, {counts[PUSHED]} pushed for the first time"
        left = counts[NOT_PUSHED] + counts[LISTED]
        text = f"Resync {span}: {counts['differences']} difference(s); {done}; {left} left"
        text += f" for a person or a later run; {self.api_calls} Exact API call(s)."
        return " ".join([text, *self.stopped])

    def markdown(self) -> str:
        if not self.rows:
            return "Billing and Exact agree over the range: nothing to resync."
        header = [*COLUMNS, "outcome", "detail"]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for row in self.rows[:MAX_MARKDOWN_ROWS]:
            cells = (row[c].replace("|", "\\|").replace("\n", " ") for c in header)
            lines.append("| " + " | ".join(cells) + " |")
        if len(self.rows) > MAX_MARKDOWN_ROWS:
            lines.append(f"\n{MAX_MARKDOWN_ROWS} of {len(self.rows)} shown.")
        return "\n".join(lines)

    def text_lines(self) -> list[str]:
        """The rows for a terminal, one line each."""
        return [
            f"{row['scope']:<9} {row['number']:<20} {row['issued']:<10} "
            f"{row['difference']:<26} {row['outcome']:<13} {row['detail']}"
            for row in self.rows
        ]
