"""The alert sensor: every minute, what needs a person (documents blocked, failing or flagged;
`exact_documents`' freshness promise broken, as Dagster's freshness daemon judged it; a
division's daily API budget nearly spent; the Exact login due or dead) is posted once to
ALERT_WEBHOOK_URL as Slack-compatible JSON, with a link to the asset in Dagster's UI.

Both variables are read at each tick (`.env` included, as Dagster loads it): the webhook URL is
a secret and is never logged or shown; DAGSTER_WEBSERVER_URL is where the UI's links point.
Without a webhook URL every tick is skipped, saying so.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import dagster as dg
import psycopg
from dagster._core.definitions.freshness import FreshnessState  # not exported by dagster 1.13

from exact_pipeline.alerts import findings as found
from exact_pipeline.alerts import webhook
from exact_pipeline.alerts.findings import Finding
from exact_pipeline.alerts.rounds import announce
from exact_pipeline.defs.documents.assets import DOCUMENTS
from exact_pipeline.defs.documents.freshness import PROMISE
from exact_pipeline.defs.resources import ExactOnline, StateDatabase
from exact_pipeline.exact.errors import ExactError
from exact_pipeline.sync.core.errors import for_people
from exact_pipeline.sync.documents import ledger

WEBHOOK_VARIABLE = "ALERT_WEBHOOK_URL"
UI_VARIABLE = "DAGSTER_WEBSERVER_URL"
DEFAULT_UI = "http://localhost:3000"


class AlertsNotDelivered(Exception):
    """The webhook did not take a message: the tick fails (red in the UI) and the next one
    posts it again."""


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Posts what needs a person to {WEBHOOK_VARIABLE} (Slack-compatible JSON), "
    "once per cause while it lasts: documents blocked, failing or flagged; exact_documents' "
    "freshness promise broken; a division's daily API budget nearly spent "
    f"({found.BUDGET_ALERT_PERCENT} %); the Exact login due within "
    f"{found.LOGIN_WARNING.days} days or dead. Skipped while {WEBHOOK_VARIABLE} is not set.",
)
def alerts_to_webhook(
    context: dg.SensorEvaluationContext, state_database: StateDatabase, exact_online: ExactOnline
) -> dg.SkipReason:
    url = dg.EnvVar(WEBHOOK_VARIABLE).get_value()
    if not url:
        return dg.SkipReason(f"{WEBHOOK_VARIABLE} is not set: no alerts are posted")
    base = (dg.EnvVar(UI_VARIABLE).get_value() or DEFAULT_UI).rstrip("/")
    current = [
        *freshness(context.instance),
        *budgets_and_login(state_database, exact_online),
    ]
    with psycopg.connect(state_database.url, autocommit=True) as conn:
        ledger.ensure_schema(conn)
        current += found.document_findings(ledger.documents_in(conn, found.NEEDS_A_PERSON))
        outcome = announce(
            conn,
            current,
            lambda message: webhook.post(url, message),
            link=f"{base}/assets/{DOCUMENTS}",
            asset=DOCUMENTS,
        )
    if outcome.failed:
        raise AlertsNotDelivered(outcome.summary())
    return dg.SkipReason(outcome.summary())


def freshness(instance: dg.DagsterInstance) -> list[Finding]:
    """The documents' freshness promise as Dagster's freshness daemon last judged it (the
    state the asset's page shows)."""
    key = dg.AssetKey(DOCUMENTS)
    record = instance.get_freshness_state_records([key]).get(key)
    if record is None or record.freshness_state != FreshnessState.FAIL:
        return []
    latest = instance.get_latest_materialization_event(key)
    last_push = datetime.fromtimestamp(latest.timestamp, UTC) if latest else None
    return [found.freshness_finding(DOCUMENTS, last_push, PROMISE)]


def budgets_and_login(state: StateDatabase, exact: ExactOnline) -> list[Finding]:
    """The stored token chain and each granted division's budget as last seen."""
    try:
        with exact.client(state) as client:
            connection = client.tokens.load()
            divisions = connection.divisions if connection else ()
            budgets = {division.code: client.budget(division.code) for division in divisions}
    except ExactError as exc:  # e.g. EXACT_TOKEN_KEY does not decrypt the stored chain
        return [found.unreadable_login(for_people(exc))]
    return [
        *found.login_findings(connection, datetime.now(UTC)),
        *found.budget_findings(budgets, time.time()),
    ]
