"""Payments pushed by Exact: subscriptions, the webhook server, the sensor and the hourly
catch-up, against the sandbox over HTTP (its deliveries are real, HMAC-signed POSTs), a real
webhook server on a free port, real Postgres and the definitions as the code location loads
them."""

from __future__ import annotations

import json
import time
from typing import Any

import dagster as dg
import httpx

from exact_pipeline.demo.payments import register_demo_payments
from exact_pipeline.exact import ExactClient, ExactConfig
from exact_pipeline.exact.endpoints import SYNC_PAYMENT_TERMS
from exact_pipeline.exact.webhooks import PAYMENT_TOPICS, signature, subscribe
from exact_pipeline.state.exact import open_exact
from exact_pipeline.webhooks.subscriptions import subscribe_payments
from exact_pipeline_tests.conftest import free_port
from exact_pipeline_tests.defs.conftest import BuildDefs, materialization, tick
from exact_pipeline_tests.exact.conftest import TOKEN_KEY, SandboxAdmin
from exact_pipeline_tests.sync.builder import DAY, Billing
from exact_pipeline_tests.sync.conftest import MappingFolder
from exact_pipeline_tests.sync.payments.conftest import TEAM, Payments
from exact_pipeline_tests.webhooks.conftest import SECRET, WAIT, WebhookServer

NL = 310001
SUBSCRIPTIONS = "webhooks/WebhookSubscriptions"
SENSOR = "exact_payment_events"


def push_documents(defs: dg.Definitions, instance: dg.DagsterInstance) -> None:
    """The day's documents into Exact (the `exact_sync` job)."""
    job = defs.resolve_job_def("exact_sync")
    job.execute_in_process(instance=instance, partition_key=DAY.isoformat())


def wait_for_deliveries(admin: SandboxAdmin, count: int) -> list[dict[str, Any]]:
    """The sandbox's delivery attempts, once `count` were made (or WAIT seconds passed)."""
    deadline = time.monotonic() + WAIT
    while True:
        found = admin.http.get("/_sandbox/webhooks").json()["deliveries"]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def delivery(content: dict[str, object], secret: str = SECRET) -> bytes:
    raw = json.dumps(content, separators=(",", ":"))
    return f'{{"Content":{raw},"HashCode":"{signature(secret, raw.encode())}"}}'.encode()


EVENT = {
    "Topic": "FinancialTransactions",
    "ClientId": "00000000-0000-0000-0000-000000000001",
    "Division": NL,
    "Action": "Create",
    "Key": "5b1e0000-0000-0000-0000-000000000001",
    "ExactOnlineEndpoint": "https://start.exactonline.nl/api/v1/310001/x",
    "EventCreatedOn": "2026-11-21T10:00:00",
}


def test_a_wrong_signature_is_refused_and_nothing_is_stored(
    webhook_server: WebhookServer,
) -> None:
    forged = delivery(EVENT, secret="not the app's secret")
    unsigned = json.dumps({"Content": EVENT}).encode()
    for body in (forged, unsigned):
        assert httpx.post(webhook_server.url, content=body).status_code == 401
    assert webhook_server.events() == []

    # The same event signed with the app's secret is stored, a re-delivery once only.
    for _ in range(2):
        assert httpx.post(webhook_server.url, content=delivery(EVENT)).status_code == 200
    [stored] = webhook_server.events()
    assert (stored["topic"], stored["division"], stored["entity_key"]) == (
        "FinancialTransactions",
        NL,
        EVENT["Key"],
    )
    assert stored["processed_at"] is None


def test_subscriptions_are_made_once_and_replaced_when_the_url_changes(
    exact: ExactClient, admin: SandboxAdmin
) -> None:
    client = exact
    first = subscribe(client, NL, "https://hooks.example.com/a", PAYMENT_TOPICS)
    again = subscribe(client, NL, "https://hooks.example.com/a", PAYMENT_TOPICS)
    assert (first.created, again.created, again.kept) == (
        list(PAYMENT_TOPICS),
        [],
        ["FinancialTransactions"],
    )
    assert [s["CallbackURL"] for s in admin.store(NL, SUBSCRIPTIONS)] == [
        "https://hooks.example.com/a"
    ]

    moved = subscribe(client, NL, "https://hooks.example.com/b", PAYMENT_TOPICS)
    assert (moved.deleted, moved.created) == (list(PAYMENT_TOPICS), list(PAYMENT_TOPICS))
    assert [s["CallbackURL"] for s in admin.store(NL, SUBSCRIPTIONS)] == [
        "https://hooks.example.com/b"
    ]


def test_a_payment_registered_in_exact_reaches_billing_through_its_webhook(
    build_defs: BuildDefs,
    billing: Billing,
    config: ExactConfig,
    state_url: str,
    connected: None,
    mapping_folder: MappingFolder,
    dagster_instance: dg.DagsterInstance,
    webhook_server: WebhookServer,
) -> None:
    mapping_folder.setting("payment_sync", "exact_to_billing")
    mappings = mapping_folder.load()
    with open_exact(config, state_url, TOKEN_KEY) as exact:
        assert set(subscribe_payments(exact, mappings, webhook_server.url)) == {
            e.division for e in mappings.settings.entities.values()
        }
    invoice = billing.document("NL-1", billing.customer("cus_1", "Acme B.V."), [TEAM])
    defs = build_defs()
    push_documents(defs, dagster_instance)

    # Our own booking of NL-1 is announced too, and asks for no import.
    assert len(webhook_server.wait_for_events(1)) == 1
    assert tick(build_defs, SENSOR, dagster_instance, None).skip_message == (
        "no webhook event waiting"
    )

    with open_exact(config, state_url, TOKEN_KEY) as exact:
        [paid] = register_demo_payments(exact, mappings, count=1)
    assert len(webhook_server.wait_for_events(2)) == 2
    [request] = tick(build_defs, SENSOR, dagster_instance, None).run_requests or []
    assert request.tags["exact_pipeline/divisions"] == str(NL)

    imported = defs.resolve_job_def("import_payments").execute_in_process(
        instance=dagster_instance, tags=request.tags
    )

    [payments] = materialization(imported, "payments_from_exact")
    assert payments.metadata["payments_imported"].value == 1
    assert [(r["number"], r["source"]) for r in Payments(billing).rows()] == [
        ("NL-1", "exact_online")
    ]
    assert Payments(billing).status(invoice) in {"paid", "partially_paid"} and paid
    assert all(event["processed_at"] is not None for event in webhook_server.events())
    assert tick(build_defs, SENSOR, dagster_instance, None).skip_message == (
        "no webhook event waiting"
    )

    # The hourly import reads the same payment again (its read overlaps the webhook's: here
    # from the start): the ledger knows it, nothing is imported twice.
    with open_exact(config, state_url, TOKEN_KEY) as exact:
        exact.reset_sync(NL, SYNC_PAYMENT_TERMS)
    hourly = defs.resolve_job_def("import_payments").execute_in_process(instance=dagster_instance)
    [again] = materialization(hourly, "payments_from_exact")
    assert again.metadata["payments_already_done"].value == 1
    assert again.metadata["payments_imported"].value == 0
    assert len(Payments(billing).rows()) == 1


def test_a_missed_delivery_is_caught_up_by_the_hourly_import(
    build_defs: BuildDefs,
    billing: Billing,
    config: ExactConfig,
    state_url: str,
    connected: None,
    mapping_folder: MappingFolder,
    dagster_instance: dg.DagsterInstance,
    admin: SandboxAdmin,
) -> None:
    mapping_folder.setting("payment_sync", "exact_to_billing")
    mappings = mapping_folder.load()
    down = f"http://127.0.0.1:{free_port()}/exact/webhooks"  # nothing listens there
    billing.document("NL-1", billing.customer("cus_1", "Acme B.V."), [TEAM])
    defs = build_defs()
    push_documents(defs, dagster_instance)
    with open_exact(config, state_url, TOKEN_KEY) as exact:
        subscribe_payments(exact, mappings, down)
        register_demo_payments(exact, mappings, count=1)

    # Exact tried and failed (nothing listened): no event, the sensor has nothing to do.
    [failed] = wait_for_deliveries(admin, 1)
    assert failed["status"] is None and failed["url"] == down
    assert tick(build_defs, SENSOR, dagster_instance, None).skip_message == (
        "no webhook event waiting"
    )
    hourly = defs.resolve_job_def("import_payments").execute_in_process(instance=dagster_instance)

    [payments] = materialization(hourly, "payments_from_exact")
    assert payments.metadata["payments_imported"].value == 1
    assert [r["number"] for r in Payments(billing).rows()] == ["NL-1"]
