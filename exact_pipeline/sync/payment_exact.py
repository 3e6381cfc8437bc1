"""Exact's side of payments: receipts as bank entries, a document's open items, and the accounts
a receipt is booked on. Used by both directions and by the demo.

A receipt is a bank entry in the entity's `bank_journal` with ONE line:
  Account      the customer's account: the one Exact booked the document's open item on
  GLAccount    the receivables account: the GL of the entity's sales journal (where Exact books
               the document's receivable), which must be of type 20
  OurRef       the document's Exact invoice/entry number (Int32), read from its open item
  AmountFC     positive for a receipt on an invoice, negative for a refund on a credit note
  Description  `billing payment <payment id>`: unique per payment, and the idempotency key
               (looked up on BankEntryLines.Description, giving the entry's EntryID)
  Notes        the billing document number and the payment method, for a person
When Account, OurRef and the amount agree with an open item, Exact matches the receipt to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

from exact_pipeline.exact import ExactClient, LookupKey, MasterData, eq
from exact_pipeline.exact.endpoints import BANK_ENTRY_LINES, RECEIVABLES, Endpoint
from exact_pipeline.exact.models import (
    BankEntry,
    BankEntryLine,
    ExactDateTime,
    ExactModel,
    Receivable,
)
from exact_pipeline.mapping import Cause, EntityMapping

RECEIVABLES_GL_TYPE = 20  # GLAccount.Type: accounts receivable
RECEIPT_JOURNAL_TYPES = (12, 16)  # Journal.Type: bank, payment service
RECEIPT_LINE_TYPE = 20  # PaymentTerms.LineType: 20 receivable, 22 payable
DESCRIPTION_LIMIT = 100  # BankEntryLines.Description
# Open items read per call: GUID filters joined with `or`, well inside a URL's length.


class PaymentTerm(Receivable):
    """A row of `sync/Cashflow/PaymentTerms`: a receivable (or payable) and its line type."""

    LineType: int | None = None


# The incremental twin of Receivables; LineType tells receivables from payables.
PAYMENT_TERMS = Endpoint("sync/Cashflow/PaymentTerms", PaymentTerm, "ID")


class Deletion(ExactModel):
    """A row of `sync/Deleted`: a record removed from Exact, by key and entity type."""

    ID: UUID | None = None
    EntityKey: UUID | None = None
    EntityType: int | None = None  # 10: PaymentTerms (a receivable row)
    DeletedDate: ExactDateTime = None


DELETIONS = Endpoint("sync/Deleted", Deletion, "ID")
PAYMENT_TERM_DELETED = 10  # sync/Deleted EntityType of a receivable row


# --- amounts and dates --------------------------------------------------------------------


def sign_of(document_type: str) -> int:
    """+1 for an invoice (receipts are positive), -1 for a credit note (refunds negative)."""
    return -1 if document_type == "credit_note" else 1


def exact_day(moment: datetime, zone: ZoneInfo) -> datetime:
    """The local day of `moment`, as the naive midnight Exact wants for a date."""
    return datetime.combine(moment.astimezone(zone).date(), time())


def from_exact_day(value: datetime | date | None, zone: ZoneInfo, default: datetime) -> datetime:
    """Exact's naive local date → the aware midnight of that day in `zone`."""
    if value is None:
        return default
    day = value.date() if isinstance(value, datetime) else value
    return datetime.combine(day, time(), zone)


# --- receipts -------------------------------------------------------------------------------


def payment_reference(payment_id: str) -> str:
    return f"billing payment {payment_id}"


def reference_fits(payment_id: str) -> bool:
    return len(payment_reference(payment_id)) <= DESCRIPTION_LIMIT


def receipt_lookup(reference: str) -> LookupKey:
    """Finds the bank entry whose line carries `reference` (after a lost answer)."""
    return LookupKey(eq("Description", reference), endpoint=BANK_ENTRY_LINES, key_field="EntryID")


@dataclass(frozen=True)
class ReceiptAccounts:
    """Where a division's receipts are booked."""

    bank_journal: str
    receivables_gl: UUID


def receipt_accounts(
    master_data: MasterData, entity_id: str, entity: EntityMapping, settings_file: str
) -> ReceiptAccounts | Cause:
    """The entity's bank journal and receivables GL, checked against the division's master
    data; a Cause names what is wrong and the edit that fixes it."""
    division = master_data.division
    journal = master_data.journals.get(entity.bank_journal or "")
    if journal is None or journal.Type not in RECEIPT_JOURNAL_TYPES:
        what = (
            "does not exist" if journal is None else f"is not a bank journal (type {journal.Type})"
        )
        return Cause(
            reason=f"bank journal {entity.bank_journal!r} of entity {entity_id} {what} in "
            f"division {division}",
            fix=f"set `bank_journal:` under entities.{entity_id} in {settings_file} to a bank "
            "journal of the division",
        )
    sales = master_data.journals.get(entity.sales_journal)
    debtors = sales.GLAccount if sales else None
    gl = next((g for g in master_data.gl_accounts.values() if debtors and debtors == g.ID), None)
    if gl is None or gl.ID is None or gl.Type != RECEIVABLES_GL_TYPE:
        return Cause(
            reason=f"sales journal {entity.sales_journal!r} of division {division} has no "
            "receivables account (a GL of type 20), so a receipt cannot be matched",
            fix="give the sales journal its debtors account in Exact",
        )
    return ReceiptAccounts(journal.Code or entity.bank_journal or "", gl.ID)


@dataclass(frozen=True)
class Receipt:
    """One payment as a bank-entry line: `amount` signed as Exact books it."""

    reference: str
    account: UUID
    our_ref: int
    amount: Decimal
    currency: str
    day: datetime  # naive local midnight
    notes: str


def receipt_entry(accounts: ReceiptAccounts, receipt: Receipt) -> BankEntry:
    return BankEntry(
        JournalCode=accounts.bank_journal,
        Currency=receipt.currency,
        BankEntryLines=[
            BankEntryLine(
                Account=receipt.account,
                GLAccount=accounts.receivables_gl,
                OurRef=receipt.our_ref,
                AmountFC=receipt.amount,
                Date=receipt.day,
                Description=receipt.reference,
                Notes=receipt.notes,
            )
        ],
    )


# --- open items -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenItems:
    """A document's receivable rows in Exact, amounts signed as Exact books them (a credit
    note's are negative). A partial payment splits a row into a settled part and an open rest."""

    rows: tuple[Receivable, ...]

    @property
    def number(self) -> int | None:
        """The invoice/entry number a receipt's OurRef must carry."""
        return next((r.InvoiceNumber or r.EntryNumber for r in self.rows), None)

    @property
    def currency(self) -> str | None:
        return next((r.Currency for r in self.rows if r.Currency), None)

    @property
    def account(self) -> UUID | None:
        return next((r.Account for r in self.rows if r.Account), None)

    @property
    def outstanding(self) -> Decimal:
        return sum((r.AmountFC or Decimal(0) for r in self.rows if not r.IsFullyPaid), Decimal(0))

    @property
    def paid(self) -> Decimal:
        return sum((r.AmountFC or Decimal(0) for r in self.rows if r.IsFullyPaid), Decimal(0))


def open_items(
    exact: ExactClient, division: int, entry_ids: Sequence[UUID]
) -> dict[UUID, OpenItems]:
    """The receivable rows of the documents with these Exact entry/invoice ids (a call per
    twenty documents). A document Exact holds no item for is absent."""
    found: dict[UUID, list[Receivable]] = {}
    for item in exact.list_any(division, RECEIVABLES, "TransactionEntryID", entry_ids):
        if item.TransactionEntryID is not None:
            found.setdefault(item.TransactionEntryID, []).append(item)
    return {entry_id: OpenItems(tuple(rows)) for entry_id, rows in found.items()}
