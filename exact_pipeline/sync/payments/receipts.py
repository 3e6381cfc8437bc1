"""Payments as the pipeline books them in Exact: a receipt is a bank entry, checked against the
division's master data. Exact's own vocabulary (models, endpoints, type codes, open items) is
in `exact`; this module holds the pipeline's choices. Used by both directions and by the demo.

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

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from exact_pipeline.exact import LookupKey, MasterData, eq
from exact_pipeline.exact.codes import RECEIPT_JOURNAL_TYPES, RECEIVABLES_GL_TYPE
from exact_pipeline.exact.endpoints import BANK_ENTRY_LINES
from exact_pipeline.exact.fields import fits
from exact_pipeline.exact.models import BankEntry, BankEntryLine
from exact_pipeline.mapping import Cause, EntityMapping


def sign_of(document_type: str) -> int:
    """+1 for an invoice (receipts are positive), -1 for a credit note (refunds negative)."""
    return -1 if document_type == "credit_note" else 1


# --- receipts -------------------------------------------------------------------------------


def payment_reference(payment_id: str) -> str:
    return f"billing payment {payment_id}"


def reference_fits(payment_id: str) -> bool:
    return fits("BankEntryLines", "Description", payment_reference(payment_id))


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
