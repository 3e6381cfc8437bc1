"""Payments pushed by Exact: the `exact_payment_events` sensor turns the webhook events the
server stored (`exact-pipeline webhooks serve`) into ONE `import_payments` run over the
divisions they name, however many events arrived; that run reads each division once
(incrementally) and marks the events done. The hourly import stays as the catch-up for
deliveries Exact never made (and marks their divisions' events done too)."""

from __future__ import annotations

import dagster as dg
import psycopg

from exact_pipeline.defs.documents.automation import TRIGGER_TAG
from exact_pipeline.defs.payments.automation import import_payments
from exact_pipeline.defs.resources import MappingTables, StateDatabase
from exact_pipeline.exact.webhooks import PAYMENT_TOPICS
from exact_pipeline.sync.payments import events
from exact_pipeline.sync.payments.ledger import IMPORT

DIVISIONS_TAG = "exact_pipeline/divisions"  # the divisions a webhook-triggered import reads


def requested_divisions(tags: dict[str, str]) -> list[int] | None:
    """The divisions a run was asked to read (None: every mapped division)."""
    named = tags.get(DIVISIONS_TAG)
    return [int(d) for d in named.split(",")] if named else None


@dg.sensor(
    job=import_payments,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Imports the payments Exact's webhooks announced (payment_sync exact_to_billing): "
    "one run for every event stored since, reading only their divisions.",
)
def exact_payment_events(
    state_database: StateDatabase, mapping_tables: MappingTables
) -> dg.SensorResult | dg.SkipReason:
    settings = mapping_tables.tables.settings
    if settings.payment_sync != IMPORT:
        return dg.SkipReason(f"payment_sync is {settings.payment_sync}, not {IMPORT}")
    mapped = {e.division for e in settings.entities.values()}
    with psycopg.connect(state_database.url, autocommit=True) as conn:
        found = events.pending(conn, PAYMENT_TOPICS, mapped)
    if not found:
        return dg.SkipReason("no webhook event waiting")
    divisions = sorted({e.division for e in found})
    # Keyed by the newest event: ticks while the run is queued or running ask for the same
    # run (Dagster skips it); a later event asks for a new one.
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"webhook:{found[-1].seq}",
                tags={DIVISIONS_TAG: ",".join(map(str, divisions)), TRIGGER_TAG: "webhook"},
            )
        ]
    )
