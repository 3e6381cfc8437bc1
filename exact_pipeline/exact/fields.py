"""Exact's text-field limits, in one table, and the one function that makes text fit them.

Exact rejects a value longer than its field (`Description: The value is too long`), which would
block a document over a cosmetic detail. So free text is SHORTENED, never rejected: the end is
cut and an ellipsis marks the cut. Identifiers are different (a shortened document number would
no longer find its entry): `fits` lets the transform block those instead.

The limits are Exact's documented/observed ones (see the API reference, pitfall 7); the sandbox
enforces the same defaults.
"""

from __future__ import annotations

ELLIPSIS = "…"

# (entity, field) → maximum length in characters.
LIMITS: dict[tuple[str, str], int] = {
    ("SalesEntries", "Description"): 60,
    ("SalesEntries", "YourRef"): 40,
    ("SalesEntryLines", "Description"): 60,
    # Cost centre and cost unit codes (exact-entities.json: max_length 8 on both line entities).
    ("SalesEntryLines", "CostCenter"): 8,
    ("SalesEntryLines", "CostUnit"): 8,
    ("SalesInvoiceLines", "CostCenter"): 8,
    ("SalesInvoiceLines", "CostUnit"): 8,
    ("SalesInvoices", "Description"): 60,
    ("SalesInvoices", "YourRef"): 40,
    ("SalesInvoiceLines", "Description"): 60,
    ("Documents", "Subject"): 200,
    ("DocumentAttachments", "FileName"): 200,
    ("Accounts", "Name"): 50,
    ("Accounts", "Email"): 100,
    ("Accounts", "VATNumber"): 20,
    ("Accounts", "AddressLine1"): 100,
    ("Accounts", "AddressLine2"): 100,
    ("Accounts", "Postcode"): 20,
    ("Accounts", "City"): 50,
    ("BankEntryLines", "Description"): 100,
}


def limit(entity: str, field: str) -> int:
    return LIMITS[(entity, field)]


def shorten(text: str, maximum: int) -> str:
    """`text` if it fits, else its start (trailing spaces dropped) and an ellipsis, `maximum`
    characters in all."""
    text = text.strip()
    if len(text) <= maximum:
        return text
    return text[: maximum - len(ELLIPSIS)].rstrip() + ELLIPSIS


def fit(entity: str, field: str, text: str | None) -> str | None:
    """`text` shortened to Exact's limit for `entity.field`; None and "" stay None."""
    return shorten(text, limit(entity, field)) if text else None


def fits(entity: str, field: str, text: str) -> bool:
    return len(text) <= limit(entity, field)
