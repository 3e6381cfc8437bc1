"""Exact's webhooks (reference §8): a division's subscriptions kept as wanted, deliveries verified.

Subscriptions (`webhooks/WebhookSubscriptions`) are per app and division; an app sees only its
own. Exact has no reliable PUT on them (the page lists it, the dotnet SDK has none, the
reference says delete and recreate), so a subscription whose callback URL changed is deleted
and created again.

A delivery is `{"Content":{…},"HashCode":"…"}`, `HashCode` the upper-case hex HMAC-SHA256 of
the raw `Content` JSON keyed with the app's webhook secret. It is checked over the raw bytes
exactly as picqer's `Webhook/Authenticatable.php` does (the same pattern over the body): parsing
and re-serialising `Content` could change its bytes and break a valid signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field

from exact_pipeline.exact.client import ExactClient
from exact_pipeline.exact.endpoints import WEBHOOK_SUBSCRIPTIONS
from exact_pipeline.exact.errors import NotFoundError
from exact_pipeline.exact.odata import eq
from exact_pipeline.exact.payloads import WebhookSubscriptionPayload
from exact_pipeline.exact.writes import LookupKey

# The topic that carries payments: every booking (bank and cash entries included; a payment
# settles a receivable through one) is a `FinancialTransactions` event (reference §8; the
# public topic list, pionect.nl/using-webhooks-from-exact; the sandbox fires it for each bank
# entry, webhooks.py). The entry pages' own topics (BankEntries, CashEntries) would miss
# settlements booked in other journals.
PAYMENT_TOPICS = ("FinancialTransactions",)
_DELIVERY = re.compile(rb'^\{"Content":(.*),"HashCode":"(.*)"\}$', re.DOTALL)
_CONTENT_FIELDS = ("Topic", "Division", "Action", "Key")


class MalformedDelivery(ValueError):
    """A correctly signed body whose content is not an event."""


@dataclass(frozen=True)
class WebhookEvent:
    topic: str
    division: int
    action: str  # Create, Update, Delete
    key: str  # the changed record's key (an entry's EntryID for FinancialTransactions)
    endpoint: str | None  # where to GET it
    created_on: str | None
    hash_code: str  # the HMAC of the content: the same for a re-delivery of the same event


def signature(secret: str, content: bytes) -> str:
    return hmac.new(secret.encode(), content, hashlib.sha256).hexdigest().upper()


def verified_event(body: bytes, secret: str) -> WebhookEvent | None:
    """The delivery's event when its `HashCode` signs its raw `Content` with `secret`, None
    when it does not (a constant-time comparison). Raises `MalformedDelivery` when a signed
    content is no event."""
    match = _DELIVERY.match(body.strip())
    if match is None or not secret:
        return None
    content, code = match.groups()
    if not hmac.compare_digest(signature(secret, content).encode(), code):
        return None
    try:
        data = json.loads(content)
        missing = [name for name in _CONTENT_FIELDS if data.get(name) in (None, "")]
        if missing:
            raise MalformedDelivery(f"the event has no {', '.join(missing)}")
        return WebhookEvent(
            topic=str(data["Topic"]),
            division=int(data["Division"]),
            action=str(data["Action"]),
            key=str(data["Key"]),
            endpoint=data.get("ExactOnlineEndpoint"),
            created_on=data.get("EventCreatedOn"),
            hash_code=code.decode(),
        )
    except (ValueError, TypeError, AttributeError) as odd:
        raise MalformedDelivery(str(odd)) from odd


@dataclass
class Subscriptions:
    """What `subscribe` did in one division, by topic."""

    kept: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # stale callback URLs, or duplicates


def subscribe(
    exact: ExactClient, division: int, callback_url: str, topics: Iterable[str]
) -> Subscriptions:
    """Make the app's subscriptions of `division` to `topics` point at `callback_url`, and only
    once each: one GET, then a POST per missing topic and a DELETE per stale one. The app's
    other subscriptions of these topics (another callback URL) are replaced."""
    done = Subscriptions()
    existing = list(exact.list(division, WEBHOOK_SUBSCRIPTIONS))
    for topic in topics:
        same = [s for s in existing if s.Topic == topic]
        keep = next((s for s in same if s.CallbackURL == callback_url), None)
        for stale in (s for s in same if s is not keep and s.ID is not None):
            with suppress(NotFoundError):  # gone already (a DELETE whose answer was lost)
                exact.delete(division, WEBHOOK_SUBSCRIPTIONS, stale.ID)
            done.deleted.append(topic)
        if keep is not None:
            done.kept.append(topic)
            continue
        payload = WebhookSubscriptionPayload(CallbackURL=callback_url, Topic=topic)
        lookup = LookupKey(f"{eq('CallbackURL', callback_url)} and {eq('Topic', topic)}")
        exact.create(division, WEBHOOK_SUBSCRIPTIONS, payload.body(), idempotency=lookup)
        done.created.append(topic)
    return done
