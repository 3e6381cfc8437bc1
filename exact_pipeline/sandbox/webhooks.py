"""Webhooks as Exact sends them (reference §8): subscriptions per app and division
(`webhooks/WebhookSubscriptions`), and a signed POST to the callback URL for each change.

A delivery is `{"Content":{"Topic","ClientId","Division","Action","Key","ExactOnlineEndpoint",
"EventCreatedOn"},"HashCode":"…"}` with `HashCode` the upper-case hex HMAC-SHA256 of the raw
`Content` JSON keyed with the app's webhook secret (how picqer's `Authenticatable` checks it).
It carries only the key: the receiver GETs the record. Deliveries are posted by a background
thread, outside the sandbox lock (a callback may call the sandbox back), once, best effort:
like Exact's, they can be missed.

Topics come from the reference (an entity that "supports webhooks", by its webhook topic),
plus `FinancialTransactions` (§8) for every booking: a sales entry written, a bank entry
written, a sales invoice processed. Events fire on API writes (Create/Update/Delete of the
request's record; a line's change is an Update of its header's topic).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from exact_pipeline.sandbox import reference
from exact_pipeline.sandbox.context import Ctx
from exact_pipeline.sandbox.odata.filter import literal_text
from exact_pipeline.sandbox.schema import Edm, EntitySet, Record

SUBSCRIPTIONS = "webhooks/WebhookSubscriptions"
FINANCIAL_TRANSACTIONS = "FinancialTransactions"
NAMESPACE = uuid.UUID("0e9f7c44-5b1a-4c55-9b0e-6c1d2a3b4c5d")
# Writes that book a financial transaction: the set, and the field holding the entry's key.
BOOKINGS = {
    "salesentry/SalesEntries": "EntryID",
    "salesentry/SalesEntryLines": "EntryID",
    "financialtransaction/BankEntries": "EntryID",
    "salesinvoice/PrintedSalesInvoices": "InvoiceID",
}
# A processed invoice (PrintedSalesInvoices, no webhooks of its own) changes the invoice.
ALSO = {"salesinvoice/PrintedSalesInvoices": ("salesinvoice/SalesInvoices", "InvoiceID")}


def _topics() -> dict[str, str]:
    """Entity path → its webhook topic, for the entities whose page says they support them."""
    return {
        path: (spec.get("webhook_topic") or [path.rsplit("/", 1)[-1]])[0]
        for path, spec in reference.entities().items()
        if spec["webhooks"] is True and len(spec.get("webhook_topic") or [None]) == 1
    }


TOPICS = _topics()
VALID_TOPICS = frozenset(TOPICS.values()) | {FINANCIAL_TRANSACTIONS}


def client_guid(client_id: str) -> str:
    """Exact's client ids are GUIDs; the sandbox's demo app's is a name: a stable GUID for it."""
    try:
        return str(uuid.UUID(client_id))
    except ValueError:
        return str(uuid.uuid5(NAMESPACE, client_id))


# business rules of the subscription set --------------------------------------------------
def subscription_created(ctx: Ctx, record: Record, _lines: list[Record]) -> None:
    if record["Topic"] not in VALID_TOPICS:
        raise ctx.fail(ctx.text("invalid_value", label=ctx.label("Topic")))
    record["ClientID"] = client_guid(ctx.client_id or "")
    record["Description"] = f"{record['Topic']} → {record['CallbackURL']}"


def own_subscriptions(ctx: Ctx, rows: list[Record]) -> list[Record]:
    """An app sees (and deletes) only its own subscriptions."""
    mine = client_guid(ctx.client_id or "")
    return [row for row in rows if row.get("ClientID") == mine]


# events ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Event:
    topic: str
    action: str  # Create, Update, Delete
    path: str  # the entity set the key belongs to
    key: Any


def events(ctx: Ctx, entity_set: EntitySet, record: Record, action: str) -> list[Event]:
    """The webhook events of one API write."""
    found: list[Event] = []
    header = ctx.registry.parents.get(entity_set.path)
    if header is not None and header.lines is not None:  # a line: its header changed
        key = record.get(header.lines.parent_key)
        if header.path in TOPICS and key is not None:
            found.append(Event(TOPICS[header.path], "Update", header.path, key))
    elif entity_set.path in TOPICS:
        found.append(
            Event(TOPICS[entity_set.path], action, entity_set.path, record[entity_set.key])
        )
    if entity_set.path in ALSO:
        path, field = ALSO[entity_set.path]
        found.append(Event(TOPICS[path], "Update", path, record[field]))
    entry_key = record.get(BOOKINGS.get(entity_set.path, ""))
    if entry_key is not None:
        booked = action if header is None else "Update"
        found.append(Event(FINANCIAL_TRANSACTIONS, booked, entity_set.path, entry_key))
    return found


def deliveries(ctx: Ctx, found: list[Event], secrets: dict[str, str]) -> list[Delivery]:
    """One signed delivery per subscription of the division on an event's topic."""
    out: list[Delivery] = []
    subscriptions = ctx.rows(SUBSCRIPTIONS)
    for event in found:
        for subscription in subscriptions:
            if subscription["Topic"] != event.topic:
                continue
            client = next((c for c in secrets if client_guid(c) == subscription["ClientID"]), None)
            if client is None:
                continue
            content = {
                "Topic": event.topic,
                "ClientId": subscription["ClientID"],
                "Division": ctx.division,
                "Action": event.action,
                "Key": event.key,
                "ExactOnlineEndpoint": (
                    f"{ctx.base_url}/api/v1/{ctx.division}/{event.path}"
                    f"({literal_text(event.key, Edm.GUID)})"
                ),
                "EventCreatedOn": ctx.now.isoformat(),
            }
            out.append(Delivery.signed(subscription["CallbackURL"], content, secrets[client]))
    return out


@dataclass(frozen=True)
class Delivery:
    url: str
    body: bytes

    @classmethod
    def signed(cls, url: str, content: dict[str, Any], secret: str) -> Delivery:
        raw = json.dumps(content, separators=(",", ":"))
        digest = hmac.new(secret.encode(), raw.encode(), hashlib.sha256).hexdigest().upper()
        return cls(url, f'{{"Content":{raw},"HashCode":"{digest}"}}'.encode())


class Dispatcher:
    """Posts deliveries from a background thread; keeps a log for the admin API."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Delivery] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.log: list[dict[str, Any]] = []

    def send(self, found: list[Delivery]) -> None:
        for delivery in found:
            self._queue.put(delivery)
        with self._lock:
            if found and self._thread is None:
                self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
                self._thread.start()

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.log)

    def clear(self) -> None:
        with self._lock:
            self.log.clear()

    def _run(self) -> None:
        with httpx.Client(timeout=5) as http:
            while True:
                delivery = self._queue.get()
                entry: dict[str, Any] = {"url": delivery.url, "body": delivery.body.decode()}
                try:
                    reply = http.post(
                        delivery.url,
                        content=delivery.body,
                        headers={"Content-Type": "application/json"},
                    )
                    entry["status"] = reply.status_code
                except httpx.HTTPError as exc:
                    entry["status"], entry["error"] = None, str(exc)
                with self._lock:
                    self.log.append(entry)
