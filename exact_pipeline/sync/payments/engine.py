"""`PaymentSync`: what Dagster (or a CLI, or a test) calls to keep payments in step, in the mode
settings.yaml's `payment_sync` chooses:

- `none`: nothing crosses; every method returns at once and makes no API call;
- `billing_to_exact`: `push_payments(window)` turns billing's payments (paid in the window,
  recorded since the last push whatever their payment day, and earlier ones still waiting) into
  receipts in Exact's bank journal (`push`);
- `exact_to_billing`: `import_payments()` writes the payments registered in Exact since the
  last import into billing (`importer`).
Each method acts only in its own mode, so a caller may call both. `differences(window)` compares
"is it paid?" on both sides in either active mode (`differences`); `pending()` lists the
pushes still waiting, blocked or failed, each with its reason; `accept(payment_id)` settles a
blocked push whose money a bookkeeper had already registered in Exact.

A payment is never recorded twice, also across a switch of mode: a billing payment that came
from Exact (source `exact_online`) is never pushed, and a receipt this pipeline pushed is never
imported (the payments ledger knows its bank entry). Idempotency in Exact: each receipt's line
carries `billing payment <id>` as its Description, looked up before any re-post.

    with PaymentSync(billing_url=…, state_url=…, mappings=…, exact=exact) as payments:
        payments.push_payments(window)
        payments.import_payments()
        payments.differences(window)
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from exact_pipeline.sync.core.session import SyncSession
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents import ledger
from exact_pipeline.sync.payments import events, paid_seen
from exact_pipeline.sync.payments import ledger as payment_ledger
from exact_pipeline.sync.payments.differences import differences
from exact_pipeline.sync.payments.importer import PaymentImporter
from exact_pipeline.sync.payments.ledger import PaymentRow
from exact_pipeline.sync.payments.push import PaymentPusher
from exact_pipeline.sync.payments.report import PaymentReport

__all__ = ["PaymentReport", "PaymentSync"]


class PaymentSync(SyncSession):
    """Payments, in the mode `payment_sync` names."""

    # The document ledger too: a payment goes once its document is in Exact.
    schemas = (
        ledger.ensure_schema,
        payment_ledger.ensure_schema,
        events.ensure_schema,
        paid_seen.ensure_schema,
    )

    @property
    def mode(self) -> str:
        return self.mappings.settings.payment_sync

    def push_payments(self, window: Window) -> PaymentReport:
        """billing_to_exact: billing's payments paid in `window`, those recorded since the last
        push (whatever their payment day) and earlier ones still pending become receipts in
        Exact. Other modes: an empty report, no call."""
        if self.mode != payment_ledger.PUSH:
            return PaymentReport(self.mode)
        pusher = PaymentPusher(self._state, self.billing_url, self.exact, self.mappings, self._now)
        return pusher.push(window)

    def import_payments(self, divisions: Collection[int] | None = None) -> PaymentReport:
        """exact_to_billing: payments registered in Exact since the last import are written into
        billing (in every mapped division, or in `divisions`). The webhook events stored
        before it began are then done for the divisions it read in full. Other modes: an
        empty report, no call."""
        if self.mode != payment_ledger.IMPORT:
            return PaymentReport(self.mode)
        importer = PaymentImporter(
            self._state, self.billing_url, self.exact, self.mappings, self._now
        )
        upto = events.last_seq(self._state)
        report = importer.run(divisions)
        if report.stopped is None:  # a stopped division's events wait for the next import
            read = {e.division for e in self.mappings.settings.entities.values()}
            events.mark_done(self._state, read if divisions is None else divisions, upto)
        return report

    def differences(self, window: Window) -> list[dict[str, Any]]:
        """Documents issued in `window`, in Exact, whose paid amount differs between billing and
        Exact: number, billing_paid, exact_paid, exact_outstanding, difference (billing minus
        Exact), explanation. Reads Exact only for what moved since the last comparison
        (`paid_seen`). Mode none: an empty list, no call."""
        if self.mode == "none":
            return []
        return differences(
            self._state, self.billing_url, self.exact, self.mappings, window, self._now
        )

    def pending(self) -> list[PaymentRow]:
        """Pushes that have not reached Exact (waiting, blocked, failed), each with its reason."""
        return payment_ledger.pending_pushes(self._state)

    def accept(self, payment_id: str) -> PaymentRow:
        """A person confirmed that Exact already holds a blocked payment (registered there by
        hand): it counts as done and is never pushed. Only blocked pushes can be accepted."""
        key = payment_ledger.push_key(payment_id)
        row = payment_ledger.row(self._state, key)
        if row is None or row.state != payment_ledger.BLOCKED:
            raise ValueError(f"payment {payment_id} is not blocked (nothing to accept)")
        accepted = payment_ledger.update(
            self._state,
            key,
            state=payment_ledger.ACCEPTED,
            reason=f"accepted as already in Exact (was blocked: {row.reason})",
            retry_after=None,
            done_at=self._now(),
        )
        assert accepted is not None
        return accepted
