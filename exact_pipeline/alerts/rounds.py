"""One round of alerting: forget the causes that cleared, post the new ones (one message per
kind), remember each message's causes once it was delivered.

Delivery is at least once: a message is remembered only after the webhook accepted it, so a
failed post is tried again next round and never lost; a round stops at the first failure (the
webhook is likely down for the rest too), and what it delivered before stays delivered. Only
an answer lost after the webhook accepted the message can send it twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from exact_pipeline.alerts import announced
from exact_pipeline.alerts.findings import KINDS, Finding
from exact_pipeline.alerts.messages import Message, message
from exact_pipeline.alerts.webhook import WebhookFailed
from exact_pipeline.sync.core.ledger import Connection


@dataclass(frozen=True)
class Round:
    sent: list[str]  # the kinds announced this round
    still_open: int  # causes announced before and still there (not sent again)
    failed: str | None  # why the rest was not delivered (retried next round)

    def summary(self) -> str:
        parts = [f"posted: {', '.join(self.sent)}" if self.sent else "nothing new to post"]
        if self.still_open:
            parts.append(f"{self.still_open} cause(s) still open, announced before")
        if self.failed:
            parts.append(f"not delivered, retried next tick: {self.failed}")
        return "; ".join(parts)


def announce(
    conn: Connection,
    findings: Sequence[Finding],
    send: Callable[[Message], None],
    link: str,
    asset: str,
) -> Round:
    """Post what is new among `findings` with `send` (which raises `WebhookFailed`)."""
    announced.ensure_schema(conn)
    before = announced.keep_only(conn, {finding.key for finding in findings})
    new = [finding for finding in findings if finding.key not in before]
    sent: list[str] = []
    for kind in KINDS:
        group = [finding for finding in new if finding.kind == kind]
        if not group:
            continue
        try:
            send(message(kind, group, link, asset))
        except WebhookFailed as exc:
            return Round(sent, len(findings) - len(new), str(exc))
        announced.remember(conn, [finding.key for finding in group])
        sent.append(kind)
    return Round(sent, len(findings) - len(new), None)
