"""Billing's month against Exact's: the documents matched, every difference with its
explanation, and the totals per division and currency.

A billing document is matched to its entry by YourRef (the billing number both push modes
send), or by the entry id the ledger recorded. Each difference is one row per document, the
most telling kind first (an entry missing outranks a paid amount that differs), explained from
the sync ledger: what the pipeline knows (blocked, failed, staged, flagged after posting) is
*explained*; what it cannot know (an entry deleted or edited in Exact, one booked there by
hand) is not. Voided documents are not billing's revenue: one voided before it was posted has
nothing to differ from; one Exact still holds is a difference.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from exact_pipeline.mapping import Mappings
from exact_pipeline.sync.core.money import amount_text
from exact_pipeline.sync.documents import ledger
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.reconciliation.billing_side import BillingFigures
from exact_pipeline.sync.reconciliation.exact_side import ExactEntry

# Kinds of difference.
NOT_IN_EXACT = "not in Exact yet"
MISSING = "missing in Exact"
AMOUNTS = "amounts differ"
VOIDED = "voided in billing"
PAID = "paid amounts differ"
UNKNOWN = "in Exact, not in billing"
TWICE = "in Exact twice"

VOIDED_BUT_HELD = (
    "voided in billing, but Exact holds its entry: post a credit note in billing (Exact is the "
    "books), or reverse the entry in Exact"
)
OTHER_VAT_CODES = (
    "the VAT is booked on other codes than tax_codes.csv maps billing's rates to (a code "
    "changed after posting, or edited in Exact)"
)
EDITED_IN_EXACT = "Exact's amounts are not billing's (edited in Exact by hand?)"
NO_RECEIVABLE = "Exact shows no receivable for the entry: check it in Exact"
PAYMENTS_DIFFER = (
    "billing and Exact record different payments: the `paid_amounts_agree` check of "
    "exact_payments explains each (a payment not pushed yet, one entered in Exact by hand)"
)


@dataclass(frozen=True)
class Difference:
    """One document (or entry) that does not agree, amounts as decimal strings."""

    number: str
    division: int | None
    currency: str
    issued: str
    kind: str
    state: str  # the ledger's state, "" when the ledger has no row
    billing_total: str
    exact_total: str
    billing_vat: str
    exact_vat: str
    billing_paid: str
    exact_paid: str
    difference: str  # billing's total minus Exact's
    explanation: str
    explained: bool  # the pipeline knows why (blocked, failed, staged, flagged)


@dataclass(frozen=True)
class Measure:
    """One line of a group's totals: billing's figure, Exact's (None: not read)."""

    name: str
    billing: Decimal
    exact: Decimal | None
    money: bool = False  # an amount in minor units (else a count)

    @property
    def difference(self) -> Decimal | None:
        return None if self.exact is None else self.billing - self.exact


@dataclass(frozen=True)
class GroupTotals:
    division: int | None
    currency: str
    measures: list[Measure]


@dataclass
class Comparison:
    groups: list[GroupTotals] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    oldest_not_in_exact: datetime | None = None


@dataclass
class _Group:
    documents: int = 0
    excl: Decimal = Decimal(0)
    vat: dict[str, Decimal] = field(default_factory=dict)
    total: Decimal = Decimal(0)
    open: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)

    def add(
        self,
        excl: Decimal,
        vat: Mapping[str, Decimal],
        total: Decimal,
        open_: Decimal,
        paid: Decimal,
    ) -> None:
        self.documents += 1
        self.excl += excl
        for code, amount in vat.items():
            self.vat[code] = self.vat.get(code, Decimal(0)) + amount
        self.total += total
        self.open += open_
        self.paid += paid


class Matcher:
    """The month's comparison, fed billing's documents and each read division's entries."""

    def __init__(
        self,
        mappings: Mappings,
        rows: Mapping[str, LedgerRow],
        entries: Mapping[int, list[ExactEntry]],
        month: tuple[date, date],
        reversed_entries: Mapping[str, set[UUID]] | None = None,
    ) -> None:
        """`rows`: the ledger by billing id; `entries`: per division read (a division absent
        was not read: its documents are not compared); `month`: [first day, first day after);
        `reversed_entries`: per billing id, the entries its corrections reversed and their
        reversals (`corrections.reversed_entries`)."""
        self._mappings = mappings
        self._reversed = reversed_entries or {}
        self._rows = rows
        self._entries = entries
        self._month = month
        self._by_ref: dict[tuple[int, str], list[ExactEntry]] = defaultdict(list)
        self._by_id: dict[UUID, ExactEntry] = {}
        for division, found in entries.items():
            for entry in found:
                self._by_ref[(division, entry.your_ref or "")].append(entry)
                self._by_id[entry.entry_id] = entry
        self._matched: set[UUID] = set()
        self._billing: dict[tuple[int | None, str], _Group] = defaultdict(_Group)
        self._exact: dict[tuple[int | None, str], _Group] = defaultdict(_Group)
        self._rates: dict[str, set[Decimal]] = defaultdict(set)  # VAT code → billing's rates
        self.result = Comparison()

    def compare(self, documents: Iterable[BillingFigures], elsewhere: set[str]) -> Comparison:
        """`elsewhere`: numbers of billing documents not among `documents` (of another month,
        or finalized after they were read): their entries are not this reading's business."""
        for document in documents:
            self._document(document)
        for division, found in self._entries.items():
            for entry in found:
                self._unmatched(division, entry, elsewhere)
        self.result.groups = self._totals()
        return self.result

    # --- billing's documents ------------------------------------------------------------

    def _document(self, document: BillingFigures) -> None:
        row = self._rows.get(document.id)
        division = self._division(document, row)
        key = (division, document.currency)
        vat = self._vat_codes(document)
        if not document.voided:
            self._billing[key].add(
                Decimal(document.excl),
                vat,
                Decimal(document.total),
                Decimal(document.open),
                Decimal(document.paid),
            )
        if division is not None and division not in self._entries:
            return  # Exact not read for it: nothing to compare with
        found = self._netted(document.id, self._find(division, document, row))
        for entry in found:
            self._matched.add(entry.entry_id)
            self._exact[key].add(entry.excl, entry.vat, entry.total, entry.open, entry.paid)
        kind, explanation, explained = self._judge(document, row, found, vat)
        if not found and not document.voided:
            oldest = self.result.oldest_not_in_exact
            if oldest is None or document.issued_at < oldest:
                self.result.oldest_not_in_exact = document.issued_at
        if kind:
            entry = found[0] if found else None
            issued = document.issued_at.astimezone(self._mappings.settings.zone).date()
            self.result.differences.append(
                _difference(document, division, issued, row, entry, kind, explanation, explained)
            )

    def _division(self, document: BillingFigures, row: LedgerRow | None) -> int | None:
        if row is not None and row.division is not None:
            return row.division
        entity = self._mappings.settings.entities.get(document.entity_id)
        return entity.division if entity else None

    def _vat_codes(self, document: BillingFigures) -> dict[str, Decimal]:
        """Billing's VAT per Exact VAT code (the code tax_codes.csv maps each rate to)."""
        vat: dict[str, Decimal] = {}
        for tax_rate_id, amount in document.vat_by_rate.items():
            code = self._mappings.tax_codes.get(tax_rate_id) or f"{tax_rate_id} (no VAT code)"
            vat[code] = vat.get(code, Decimal(0)) + amount
            self._rates[code].add(document.rates[tax_rate_id])
        return vat

    def _find(
        self, division: int | None, document: BillingFigures, row: LedgerRow | None
    ) -> list[ExactEntry]:
        if division is None:
            return []
        found = list(self._by_ref.get((division, document.number), []))
        if not found and row is not None and row.entry_id in self._by_id:
            found = [self._by_id[row.entry_id]]
        return found

    def _netted(self, billing_id: str, found: list[ExactEntry]) -> list[ExactEntry]:
        """A corrected document's entries as one (`credit_and_repost`): each reversed entry
        with its reversal, added to the repost; none when nothing remains (voided: reversed
        only, and they cancel out). Exact holds the document as their sum."""
        named = self._reversed.get(billing_id, set())
        pairs = [entry for entry in found if entry.entry_id in named]
        if not pairs:
            return found
        self._matched.update(entry.entry_id for entry in pairs)
        rest = [entry for entry in found if entry.entry_id not in named]
        if len(rest) > 1:
            return rest  # reposted twice: "in Exact twice" says so
        into = replace(rest[0] if rest else pairs[0], vat=dict((rest or pairs)[0].vat))
        for entry in pairs if rest else pairs[1:]:
            into.total += entry.total
            into.excl += entry.excl
            into.open += entry.open
            into.paid += entry.paid
            into.has_items = into.has_items or entry.has_items
            for code, amount in entry.vat.items():
                into.vat[code] = into.vat.get(code, Decimal(0)) + amount
        cancelled = not rest and not (into.total or into.excl or any(into.vat.values()))
        return [] if cancelled else [into]

    def _judge(
        self,
        document: BillingFigures,
        row: LedgerRow | None,
        found: list[ExactEntry],
        vat: Mapping[str, Decimal],
    ) -> tuple[str | None, str, bool]:
        """(kind or None when it agrees, explanation, explained)."""
        state = row.state if row else None
        if len(found) > 1:
            numbers = ", ".join(str(e.entry_number) for e in found)
            return TWICE, f"Exact holds {len(found)} entries for it ({numbers}): keep one", False
        if not found:
            return _not_found(document, row)
        [entry] = found
        if document.voided:
            return VOIDED, _flag(row) or VOIDED_BUT_HELD, state in ledger.FLAGGED
        if not _agrees(document, entry, vat):
            if state == ledger.CHANGED_AFTER_SYNC:
                return AMOUNTS, _flag(row) or "changed in billing after it was posted", True
            same = (Decimal(document.total), Decimal(document.vat)) == (
                entry.total,
                entry.vat_total,
            )
            return AMOUNTS, OTHER_VAT_CODES if same else EDITED_IN_EXACT, False
        if not entry.has_items:
            return PAID, NO_RECEIVABLE, False
        if Decimal(document.paid) != entry.paid:
            return PAID, PAYMENTS_DIFFER, False
        return None, "", True

    # --- Exact's entries nobody in billing claims -----------------------------------------

    def _unmatched(self, division: int, entry: ExactEntry, elsewhere: set[str]) -> None:
        if entry.entry_id in self._matched or (entry.your_ref or "") in elsewhere:
            return
        first, after = self._month
        if entry.day is None or not first <= entry.day < after:
            return  # a neighbouring month's entry (read for the time-zone margin)
        self._exact[(division, entry.currency)].add(
            entry.excl, entry.vat, entry.total, entry.open, entry.paid
        )
        currency = entry.currency
        self.result.differences.append(
            Difference(
                number=entry.your_ref or f"entry {entry.entry_number}",
                division=division,
                currency=currency,
                issued=entry.day.isoformat(),
                kind=UNKNOWN,
                state="",
                billing_total="",
                exact_total=amount_text(entry.total, currency),
                billing_vat="",
                exact_vat=amount_text(entry.vat_total, currency),
                billing_paid="",
                exact_paid=amount_text(entry.paid, currency),
                difference=amount_text(-entry.total, currency),
                explanation=f"entry {entry.entry_number} in sales journal {entry.journal} "
                "matches no billing document: booked in Exact by hand? Check it with the "
                "bookkeeper",
                explained=False,
            )
        )

    # --- totals ------------------------------------------------------------------------------

    def _totals(self) -> list[GroupTotals]:
        keys = sorted({*self._billing, *self._exact}, key=lambda k: (k[0] is None, k[0] or 0, k[1]))
        return [
            GroupTotals(
                division,
                currency,
                self._measures(
                    self._billing.get((division, currency), _Group()),
                    self._exact.get((division, currency), _Group()),
                    read=division is not None and division in self._entries,
                ),
            )
            for division, currency in keys
        ]

    def _measures(self, billing: _Group, exact: _Group, *, read: bool) -> list[Measure]:
        """Billing's figures beside Exact's (None where Exact was not read)."""
        pairs = [
            ("excluding VAT", billing.excl, exact.excl),
            *(
                (f"VAT {self._code_label(code)}", billing.vat.get(code, 0), exact.vat.get(code, 0))
                for code in sorted({*billing.vat, *exact.vat})
            ),
            ("total", billing.total, exact.total),
            ("open receivables", billing.open, exact.open),
            ("paid receivables", billing.paid, exact.paid),
        ]
        count = Measure(
            "documents", Decimal(billing.documents), Decimal(exact.documents) if read else None
        )
        return [count] + [
            Measure(name, Decimal(mine), Decimal(theirs) if read else None, money=True)
            for name, mine, theirs in pairs
        ]

    def _code_label(self, code: str) -> str:
        rates = sorted(self._rates.get(code, ()))
        shown = " / ".join(f"{rate.normalize():f}%" for rate in rates)
        return f"code {code or '(none)'}" + (f" ({shown})" if shown else "")


def _agrees(document: BillingFigures, entry: ExactEntry, vat: Mapping[str, Decimal]) -> bool:
    """Excluding VAT, VAT per code and total, to the minor unit (a fraction differs)."""
    codes = {*vat, *entry.vat}
    return (
        Decimal(document.total) == entry.total
        and Decimal(document.excl) == entry.excl
        and all(vat.get(c, Decimal(0)) == entry.vat.get(c, Decimal(0)) for c in codes)
    )


def _flag(row: LedgerRow | None) -> str | None:
    """The ledger's own explanation of a flagged document (with the fix)."""
    if row is None or row.state not in ledger.FLAGGED:
        return None
    return f"{row.state}: {row.last_error}" if row.last_error else row.state


def _not_found(document: BillingFigures, row: LedgerRow | None) -> tuple[str | None, str, bool]:
    if document.voided:
        return None, "", True  # voided, and Exact holds nothing: they agree
    day = row.partition_date.isoformat() if row else "its day"
    if row is None:
        return (
            NOT_IN_EXACT,
            (
                f"not staged yet: {day} has not been synced (automation syncs days from "
                "connection_date on; older days with a backfill)"
            ),
            True,
        )
    if row.state == ledger.BLOCKED:
        return NOT_IN_EXACT, f"blocked: {row.last_error}", True
    if row.state == ledger.FAILED:
        return NOT_IN_EXACT, f"failed, retried by the next run: {row.last_error}", True
    if row.state == ledger.DEAD_LETTER:  # its reason says it needs a person, and the retry
        return NOT_IN_EXACT, f"given up on: {row.last_error}", True
    if row.state == ledger.STAGED and not row.may_be_in_exact():
        return NOT_IN_EXACT, f"staged, not pushed yet: the next run of {day} posts it", True
    posted = f" on {row.synced_at:%Y-%m-%d}" if row.synced_at else ""
    number = f" as entry {row.entry_number}" if row.entry_number else ""
    return (
        MISSING,
        (
            f"posted{posted}{number}, but Exact no longer holds it: deleted in Exact (by a "
            "bookkeeper?); have it posted again, or book it in Exact by hand"
        ),
        False,
    )


def _difference(
    document: BillingFigures,
    division: int | None,
    issued: date,
    row: LedgerRow | None,
    entry: ExactEntry | None,
    kind: str,
    explanation: str,
    explained: bool,
) -> Difference:
    currency = document.currency

    def exact(amount: Decimal) -> str:
        return "" if entry is None else amount_text(amount, currency)

    return Difference(
        number=document.number,
        division=division,
        currency=currency,
        issued=issued.isoformat(),
        kind=kind,
        state=row.state if row else "",
        billing_total=amount_text(document.total, currency),
        exact_total=exact(entry.total if entry else Decimal(0)),
        billing_vat=amount_text(document.vat, currency),
        exact_vat=exact(entry.vat_total if entry else Decimal(0)),
        billing_paid=amount_text(document.paid, currency),
        exact_paid=exact(entry.paid if entry else Decimal(0)),
        difference=amount_text(document.total - (entry.total if entry else 0), currency),
        explanation=explanation,
        explained=explained,
    )
