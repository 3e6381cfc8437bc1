"""The mapped divisions' subscriptions to the topics that carry payments, when payments come
from Exact (`payment_sync: exact_to_billing`)."""

from __future__ import annotations

from exact_pipeline.exact import ExactClient
from exact_pipeline.exact.webhooks import PAYMENT_TOPICS, Subscriptions, subscribe
from exact_pipeline.mapping import Mappings
from exact_pipeline.sync.payments.ledger import IMPORT


def subscribe_payments(
    exact: ExactClient, mappings: Mappings, callback_url: str
) -> dict[int, Subscriptions]:
    """Each mapped division subscribed once to PAYMENT_TOPICS at `callback_url` (one GET per
    division, a POST or DELETE only for what differs). Other payment modes: nothing, no call."""
    if mappings.settings.payment_sync != IMPORT:
        return {}
    divisions = sorted({e.division for e in mappings.settings.entities.values()})
    return {d: subscribe(exact, d, callback_url, PAYMENT_TOPICS) for d in divisions}
