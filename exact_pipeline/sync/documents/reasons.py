"""Why a document waits, is blocked or is flagged, in words: every reason and fix a person reads
about a document (in the ledger's `last_error`, the checks and the payload preview) is worded
here, whichever step found it. The steps decide; this module only words.

- billing (`staging`, `transform`): voided or changed after posting, voided, a PDF too large,
  a number too long, no lines, an unknown currency;
- Exact's master data (`transform`): a code the division does not have, a journal that cannot
  book the currency;
- the customer (`customers`): no account, several candidates, a blocked account, an explicit
  link to a missing account, Exact refusing the new account;
- Exact (`push`): Exact refused the document, and when it is tried again;
- Exact's closed periods (`periods`): a document dated in one, blocked or booked later;
- documents that keep failing (`dead_letters`): given up on, and put back by a person.
The mapping tables word their own causes (`exact_pipeline.mapping`: a product without a row,
an unmapped entity); a failure the next run retries is worded by `core.errors.plain_failure`.
"""

from __future__ import annotations

from datetime import date, datetime

from exact_pipeline.billing.models import BillingDocument, Customer
from exact_pipeline.exact.models import Account, Journal
from exact_pipeline.mapping import Cause
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.documents.summaries import Staged

# --- billing ------------------------------------------------------------------------------


def document_name(document: Staged) -> str:
    """ "Invoice F-2026-0001" or "Credit note C-2026-0001"."""
    kind = "Credit note" if document.is_credit_note else "Invoice"
    return f"{kind} {document.number}"


def _posted(row: LedgerRow) -> str:
    when = row.synced_at or row.updated_at
    number = f" as number {row.entry_number}" if row.entry_number else ""
    return f"after it was posted to Exact on {when:%Y-%m-%d}{number}"


def voided_after_posting(document: Staged, row: LedgerRow) -> str:
    return (
        f"{document_name(document)} was voided in billing {_posted(row)}: Exact is not changed "
        "automatically; post a credit note in billing (it syncs like any other document), or "
        "reverse the entry in Exact"
    )


def changed_after_posting(document: Staged, row: LedgerRow) -> str:
    return (
        f"{document_name(document)} changed in billing {_posted(row)}: Exact is not changed "
        "automatically; post a credit note in billing and issue a corrected invoice, or "
        "correct the entry in Exact, then accept the change (`accept_change`) to clear this flag"
    )


def voided_while_posting(document: Staged) -> str:
    return (
        f"{document_name(document)} was voided in billing while its entry was being posted to "
        "Exact: the next run asks Exact whether it arrived (then it is flagged: post a credit "
        "note in billing) or not (then nothing is posted)"
    )


def voided(name: str) -> str:
    return f"{name} is voided in billing"


# --- corrections (`corrections: credit_and_repost`, corrections.py) -----------------------


def correction_due(document: Staged, row: LedgerRow) -> str:
    return (
        f"{document_name(document)} changed in billing {_posted(row)}: the next push reverses "
        "that entry with a credit entry and posts the new content (corrections: "
        "credit_and_repost)"
    )


def reversal_due(document: Staged, row: LedgerRow) -> str:
    return (
        f"{document_name(document)} was voided in billing {_posted(row)}: the next push "
        "reverses that entry with a credit entry (corrections: credit_and_repost)"
    )


def reversed_void(document: BillingDocument, original: int | None, reversal: int | None) -> str:
    return (
        f"{document_name(document)} was voided in billing after it was posted: Exact's entry "
        f"{original or '(number not read yet)'} is reversed by entry "
        f"{reversal or '(number not read yet)'}, so Exact nets it to zero"
    )


def posted_content_unknown(document: BillingDocument, row: LedgerRow) -> str:
    return (
        f"{document_name(document)} changed in billing {_posted(row)}, but it was posted before "
        "the pipeline kept what it posts, so it cannot be reversed automatically: post a credit "
        "note in billing and issue a corrected invoice, or correct the entry in Exact, then "
        "accept the change (`accept_change`) to clear this flag"
    )


def pdf_too_large(document: Staged, size: int, maximum: int) -> str:
    return (
        f"{document_name(document)}: its PDF {document.pdf_name or '?'} (invoice_pdfs.content) is "
        f"{size:,} bytes, over the {maximum:,} bytes that fit in Exact's "
        "10 MB request limit once base64-encoded; nothing was sent to Exact. Store a smaller "
        "PDF for it in billing (e.g. with compressed images): the next run then posts the "
        "document with it"
    )


def number_too_long(number: str, limit: int) -> Cause:
    return Cause(
        reason=f"the document number {number} is longer than Exact's YourRef field ({limit} "
        "characters), which identifies the document in Exact",
        fix="use shorter document numbers in billing",
    )


NO_LINES = Cause(
    reason="the document has no lines, and Exact needs at least one",
    fix="add its lines in billing (or void it)",
)


def unknown_currency(number: str, problem: str) -> Cause:
    return Cause(
        reason=f"document {number}, field currency: {problem}, so its amounts cannot be "
        "converted from minor units",
        fix="correct the document's currency in billing (an ISO 4217 code such as EUR)",
    )


def on_line(position: int, cause: Cause) -> Cause:
    return Cause(reason=f"line {position}: {cause.reason}", fix=cause.fix)


# --- Exact's master data ------------------------------------------------------------------


def missing_code(what: str, code: str, division: int, origin: object) -> Cause:
    """`origin`: where the code is set (a file and key), for the fix."""
    return Cause(
        reason=f"{what} {code} does not exist in Exact division {division}",
        fix=f"create it in Exact, or correct the code ({origin})",
    )


def unusable_code(what: str, code: str, problem: str, division: int, origin: object) -> Cause:
    """A code Exact has but that cannot be used (`problem`, e.g. "ended on 2026-10-31")."""
    return Cause(
        reason=f"{what} {code} {problem} in Exact division {division}",
        fix=f"use one that is active in Exact, or correct the code ({origin})",
    )


def journal_cannot_book(
    number: str, currency: str, code: str, journal: Journal, division: int, entity_key: str
) -> Cause:
    """`code`: the journal's code as the mapping tables set it."""
    return Cause(
        reason=f"document {number}, field currency: {currency}, and sales journal {code} of "
        f"Exact division {division} books only {journal.Currency} (it does not allow "
        "variable currencies)",
        fix=f"allow variable currencies on journal {code} in Exact, or set "
        f"{entity_key}.sales_journal to a sales journal in {currency}",
    )


# --- the customer -------------------------------------------------------------------------


def _who(customer: Customer) -> str:
    return f"customer {customer.id} ({customer.name})"


def account_refused(customer: Customer, division: int, message: str | None) -> Cause:
    return Cause(
        reason=f"Exact refused to create an account for {_who(customer)} in division "
        f"{division}: {message}",
        fix="correct the customer in billing, or create the account in Exact and link it in "
        "customer_links.csv",
    )


def linked_account_missing(customer: Customer, code: str, division: int) -> Cause:
    return Cause(
        reason=f"customer_links.csv links customer {customer.id} to Exact account {code}, "
        f"which division {division} does not have",
        fix="correct the account code in customer_links.csv, or create the account in Exact",
    )


def ambiguous_customer(
    customer: Customer, division: int, what: str, matches: list[Account]
) -> Cause:
    described = ", ".join(f"{a.Code} ({a.Name})" for a in matches)
    return Cause(
        reason=f"{_who(customer)} is ambiguous: {len(matches)} Exact accounts in division "
        f"{division} have its {what}: {described}",
        fix=f"link the right one in customer_links.csv (`{customer.id},<account code>`)",
    )


def no_account(customer: Customer, division: int) -> Cause:
    return Cause(
        reason=f"{_who(customer)} has no account in Exact division {division}: no account has "
        "its VAT number, e-mail or name",
        fix=f"link it in customer_links.csv (`{customer.id},<account code>`), create the "
        "account in Exact, or set customer_sync: billing_to_exact in settings.yaml",
    )


def account_blocked(customer: Customer, account: Account, division: int) -> Cause:
    return Cause(
        reason=f"{_who(customer)} belongs to Exact account {account.Code} ({account.Name}), "
        f"which is blocked in division {division}",
        fix="unblock the account in Exact, or link another one in customer_links.csv",
    )


# --- Exact's closed periods (`periods`) ---------------------------------------------------


def _in_closed(day: date, period: str, journal: str, division: int) -> str:
    return (
        f"its date {day} falls in period {period} of sales journal {journal}, which is closed "
        f"in Exact division {division}"
    )


def period_closed(day: date, period: str, journal: str, division: int) -> Cause:
    """`closed_period: block`; `period`: as Exact writes it ("2026/11")."""
    return Cause(
        reason=_in_closed(day, period, journal, division),
        fix=f"reopen period {period} of journal {journal} in Exact, or set closed_period: "
        "next_open_period in settings.yaml to book it in the first open period after it (its "
        "own date kept)",
    )


def no_open_period_after(day: date, period: str, journal: str, division: int) -> Cause:
    """`closed_period: next_open_period`, and Exact lists no open period after it."""
    return Cause(
        reason=f"{_in_closed(day, period, journal, division)}, and no later period of the "
        "journal is open (each is closed, or its financial year does not exist yet)",
        fix=f"reopen period {period} or a later one of journal {journal} in Exact, or create "
        "the next financial year there",
    )


def booked_later(booked: str, dated: str) -> str:
    """The preview's reporting period of a document moved out of a closed period."""
    return f"{booked} ({dated} is closed; its own date kept)"


def closed_at_push(dated: str) -> str:
    """The preview's reporting period of a document a closed period blocks."""
    return f"{dated} is closed: blocked at push (see closed_period in settings.yaml)"


# --- Exact --------------------------------------------------------------------------------


def exact_refused(what: str, message: str, retry_at: datetime) -> str:
    """`retry_at`: local time of the next try (after the cool-down)."""
    return (
        f"Exact refused {what}: {message}; correct the cause in Exact, billing or the mapping "
        f"tables; it is tried again after {retry_at:%Y-%m-%d %H:%M} ({retry_at:%Z}), or at once "
        "when the document or the mapping tables change"
    )


# --- documents that keep failing (`dead_letters`) -----------------------------------------


def given_up(number: str, failures: int, first: datetime, doing: str, answer: str) -> str:
    """`first`: local time of the first failure counted."""
    return (
        f"needs a person: {failures} failed attempt(s) since {first:%Y-%m-%d %H:%M} "
        f"({first:%Z}), the last one while {doing}: {answer}. No run retries it any more: "
        "correct the cause in Exact, billing or the mapping tables, then put it back with the "
        f"retry_dead_letters job in the Dagster UI, or `exact-pipeline documents retry {number}` "
        "(a change of the document in billing or of the mapping tables puts it back by itself)"
    )


def put_back(by: str) -> str:
    return f"put back by {by} after it was given up on: the next push of its day posts it"
