"""Customer payments registered in Exact for the demo, as a bookkeeper would enter them: bank
entries posted through the Exact API with our own client, matched to open items of documents the
pipeline pushed. With `payment_sync: exact_to_billing` the next import brings them into billing.

Deterministic for a seed and the open items at hand: the seed picks the invoices, and every
third of them (the 2nd, 5th, …) is paid in part (half, rounded down to the cent), the rest in
full. Only invoices without any
payment yet are picked, so no invoice gets two demo payments; each receipt's reference names the
open item it pays (`demo payment <item id>`), which also finds it again after a lost answer.
"""

from __future__ import annotations

import random
from datetime import datetime
from decimal import ROUND_DOWN
from typing import Any

from exact_pipeline.exact import ExactClient
from exact_pipeline.exact.currency import quantum
from exact_pipeline.exact.endpoints import BANK_ENTRIES, BULK_RECEIVABLES
from exact_pipeline.exact.models import Receivable
from exact_pipeline.exact.odata import exact_day
from exact_pipeline.mapping import Cause, EntityMapping, Mappings
from exact_pipeline.sync.payments.receipts import (
    Receipt,
    receipt_accounts,
    receipt_entry,
    receipt_lookup,
)

PARTIAL_EVERY = 3  # every third picked invoice (the 2nd, 5th, …) is paid in part


def demo_reference(item: Receivable) -> str:
    return f"demo payment {item.ID}"


def _payable(item: Receivable) -> bool:
    """An unpaid invoice item of a document the pipeline pushed (it carries our number); items
    already paid in part are left alone, so no item gets two demo payments."""
    return bool(
        item.YourRef
        and item.Account
        and item.AmountFC
        and item.AmountFC > 0
        and item.AmountFC == item.TransactionAmountFC
        and (item.InvoiceNumber or item.EntryNumber)
    )


def register_demo_payments(
    exact: ExactClient, mappings: Mappings, count: int, seed: int = 0
) -> list[dict[str, Any]]:
    """Pay `count` open invoices (fewer if fewer are open) through Exact's API; one POST each.
    Returns what was paid: division, invoice number and our reference, amount, full or part."""
    rng = random.Random(seed)
    open_items: list[tuple[str, EntityMapping, Receivable]] = []
    for entity_id, entity in sorted(mappings.settings.entities.items()):
        items = exact.list(entity.division, BULK_RECEIVABLES, filter="IsFullyPaid eq false")
        open_items += [(entity_id, entity, item) for item in items if _payable(item)]
    open_items.sort(key=lambda picked: str(picked[2].ID))  # a fixed order: the seed decides
    settings_file = str(mappings.folder / "settings.yaml")
    today = exact_day(datetime.now(mappings.settings.zone), mappings.settings.zone)
    paid = []
    picked = rng.sample(open_items, min(count, len(open_items)))
    for index, (entity_id, entity, item) in enumerate(picked):
        assert item.AmountFC is not None and item.Account is not None
        accounts = receipt_accounts(
            exact.master_data(entity.division), entity_id, entity, settings_file
        )
        if isinstance(accounts, Cause):
            raise ValueError(str(accounts))
        partial = index % PARTIAL_EVERY == 1
        half = (item.AmountFC / 2).quantize(quantum(item.Currency or "EUR"), ROUND_DOWN)
        amount = half if partial else item.AmountFC
        receipt = Receipt(
            reference=demo_reference(item),
            account=item.Account,
            our_ref=item.InvoiceNumber or item.EntryNumber or 0,
            amount=amount,
            currency=item.Currency or "EUR",
            day=today,
            notes=f"demo payment of {item.YourRef}",
        )
        exact.create(
            entity.division,
            BANK_ENTRIES,
            receipt_entry(accounts, receipt),
            idempotency=receipt_lookup(receipt.reference),
        )
        paid.append(
            {
                "division": entity.division,
                "invoice": item.YourRef,
                "exact_invoice": receipt.our_ref,
                "amount": str(amount),
                "currency": receipt.currency,
                "full": not partial,
            }
        )
    return paid
