"""The alert sensor, evaluated on a Postgres-backed Dagster instance against the real state
database and the sandbox, posting to a local receiver over HTTP: each cause once while it
lasts, again after it cleared and came back; no URL, no post; a failed post is retried, never
lost, never doubled; the webhook URL never shows."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import psycopg
import pytest

from exact_pipeline.exact import ExactClient, ExactConfig
from exact_pipeline.settings import STATE_SCHEMA
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents import ledger
from exact_pipeline_tests.conftest import free_port
from exact_pipeline_tests.defs.conftest import BuildDefs, tick
from exact_pipeline_tests.defs.webhook_receiver import LINK, SECRET_PATH, Receiver, receiver
from exact_pipeline_tests.exact.conftest import SandboxAdmin, connect
from exact_pipeline_tests.sync.builder import DAY, Billing
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder

__all__ = ["receiver"]

SENSOR = "alerts_to_webhook"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NL = 310001
WINDOW = Window(
    datetime.combine(DAY, time(), AMSTERDAM),
    datetime.combine(DAY + timedelta(1), time(), AMSTERDAM),
)


def alert_tick(build_defs: BuildDefs, instance: dg.DagsterInstance) -> str:
    """One tick; what it says (a tick that posts or has nothing to post is a skip)."""
    result = tick(build_defs, SENSOR, instance, None)
    assert not result.run_requests
    assert result.skip_message is not None
    return result.skip_message


def test_without_a_webhook_url_every_tick_is_skipped_saying_why(
    build_defs: BuildDefs,
    billing: Billing,
    make_engine: EngineFactory,
    dagster_instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ALERT_WEBHOOK_URL", raising=False)
    customer = billing.customer("cus_1", "Acme")
    billing.document("NL-1", customer, [("prod_beta_ai", 1, 9900, "tax_nl_21")])
    make_engine().stage(WINDOW)

    said = alert_tick(build_defs, dagster_instance)

    assert said == "ALERT_WEBHOOK_URL is not set: no alerts are posted"


def test_documents_blocked_or_failing_are_posted_once_and_again_when_they_come_back(
    build_defs: BuildDefs,
    billing: Billing,
    admin: SandboxAdmin,
    make_engine: EngineFactory,
    mapping_folder: MappingFolder,
    dagster_instance: dg.DagsterInstance,
    receiver: Receiver,
) -> None:
    customer = billing.customer("cus_1", "Acme")
    billing.document("NL-1", customer, [("prod_beta_ai", 1, 9900, "tax_nl_21")])
    billing.document("NL-2", customer, [("prod_team", 1, 9900, "tax_nl_21")])
    # Exact is down for NL-2's Document: the push gives up for this run (failed).
    admin.faults({"kind": "error", "path": "documents/Documents", "method": "POST", "status": 503})
    make_engine().push_documents(WINDOW)
    admin.clear_faults()

    alert_tick(build_defs, dagster_instance)

    [post] = receiver.posts
    assert post["blocks"][0]["text"]["text"] == "exact-pipeline: 2 documents need a person"
    body = post["blocks"][1]["text"]["text"]
    assert "1 × blocked: product prod_beta_ai has no row in products.csv" in body
    assert "1 × failed: " in body
    assert "documents: NL-1, NL-2" in body
    assert post["blocks"][2]["elements"][0]["text"] == f"<{LINK}|exact_documents in Dagster>"
    assert LINK in post["text"]

    # Still blocked and failed: nothing new.
    assert "2 cause(s) still open" in alert_tick(build_defs, dagster_instance)
    assert len(receiver.posts) == 1

    # NL-2 goes through, NL-1's product is mapped: both cleared, nothing posted.
    mapping_folder.append("products.csv", "prod_beta_ai,SUB-TEAM,")
    make_engine().push_documents(WINDOW)
    assert alert_tick(build_defs, dagster_instance) == "nothing new to post"
    assert len(receiver.posts) == 1

    # A new document blocked for the same cause is news; the cleared ones are not back.
    mapping_folder.replace("products.csv", "prod_starter,SUB-STARTER,\n", "")
    billing.document("NL-3", customer, [("prod_starter", 1, 9900, "tax_nl_21")])
    make_engine().stage(WINDOW)
    alert_tick(build_defs, dagster_instance)
    assert len(receiver.posts) == 2
    assert "documents: NL-3" in receiver.posts[1]["blocks"][1]["text"]["text"]
    assert "NL-1" not in receiver.posts[1]["text"]


def test_a_blocked_document_that_cleared_and_came_back_is_posted_again(
    build_defs: BuildDefs,
    billing: Billing,
    make_engine: EngineFactory,
    mapping_folder: MappingFolder,
    dagster_instance: dg.DagsterInstance,
    receiver: Receiver,
    state_url: str,
) -> None:
    customer = billing.customer("cus_1", "Acme")
    billing.document("NL-1", customer, [("prod_beta_ai", 1, 9900, "tax_nl_21")])
    make_engine().stage(WINDOW)
    alert_tick(build_defs, dagster_instance)
    alert_tick(build_defs, dagster_instance)
    assert len(receiver.posts) == 1

    mapping_folder.append("products.csv", "prod_beta_ai,SUB-TEAM,")
    make_engine().stage(WINDOW)
    alert_tick(build_defs, dagster_instance)
    with psycopg.connect(state_url) as conn:
        [row] = ledger.documents_in(conn, ledger.STATES)
    assert row.state == ledger.STAGED

    mapping_folder.replace("products.csv", "prod_beta_ai,SUB-TEAM,\n", "")
    make_engine().stage(WINDOW)
    alert_tick(build_defs, dagster_instance)

    assert len(receiver.posts) == 2
    assert receiver.posts[0]["blocks"][1] == receiver.posts[1]["blocks"][1]


def test_a_nearly_spent_daily_budget_is_posted_once_per_day_it_happens(
    build_defs: BuildDefs,
    admin: SandboxAdmin,
    exact: ExactClient,
    dagster_instance: dg.DagsterInstance,
    receiver: Receiver,
) -> None:
    def spend_until(left: int) -> None:
        while (budget := exact.budget(NL)) is None or budget.daily_remaining != left:
            exact.divisions(NL)

    admin.configure(daily_limit=20)
    spend_until(3)  # 85 % used
    alert_tick(build_defs, dagster_instance)
    assert receiver.posts == []

    spend_until(2)  # 90 %
    alert_tick(build_defs, dagster_instance)
    alert_tick(build_defs, dagster_instance)

    [post] = receiver.posts
    assert post["blocks"][0]["text"]["text"] == (
        "exact-pipeline: Exact's daily API budget is nearly spent"
    )
    assert (
        "division 310001: 90 % of today's Exact API budget used (18 of 20 calls)" in (post["text"])
    )

    # Exact's day turns: the budget is whole again (cleared), then nearly spent again.
    admin.advance(24 * 3600)
    spend_until(19)
    alert_tick(build_defs, dagster_instance)
    assert len(receiver.posts) == 1
    spend_until(1)
    alert_tick(build_defs, dagster_instance)

    assert len(receiver.posts) == 2
    assert "(19 of 20 calls)" in receiver.posts[1]["text"]


def test_a_login_due_soon_or_a_dead_chain_is_posted_once(
    build_defs: BuildDefs,
    admin: SandboxAdmin,
    config: ExactConfig,
    exact: ExactClient,
    state_url: str,
    dagster_instance: dg.DagsterInstance,
    receiver: Receiver,
) -> None:
    def unused_for(days: int) -> None:
        """The chain as it stands after `days` without a refresh."""
        with psycopg.connect(state_url, autocommit=True) as conn:
            conn.execute(
                f"UPDATE {STATE_SCHEMA}.exact_connection"
                " SET refreshed_at = refreshed_at - make_interval(days => %s)",
                [days],
            )

    unused_for(26)  # 4 days left: fine
    alert_tick(build_defs, dagster_instance)
    assert receiver.posts == []

    unused_for(2)  # 2 days left
    alert_tick(build_defs, dagster_instance)
    alert_tick(build_defs, dagster_instance)
    [due] = receiver.posts
    assert due["blocks"][0]["text"]["text"] == (
        "exact-pipeline: the Exact Online connection needs a login"
    )
    assert "the refresh token dies" in due["text"]
    assert "run `exact-pipeline auth login` before then" in due["text"]

    connect(admin, config, state_url)  # someone logged in again: cleared
    alert_tick(build_defs, dagster_instance)
    unused_for(28)  # and it comes back
    alert_tick(build_defs, dagster_instance)
    assert len(receiver.posts) == 2

    exact.tokens.mark_dead("consent revoked in Exact")
    alert_tick(build_defs, dagster_instance)
    alert_tick(build_defs, dagster_instance)
    assert len(receiver.posts) == 3
    assert "the connection is dead (consent revoked in Exact)" in receiver.posts[2]["text"]


def test_a_failed_post_is_retried_next_tick_never_lost_never_doubled_and_never_names_the_url(
    build_defs: BuildDefs,
    billing: Billing,
    make_engine: EngineFactory,
    dagster_instance: dg.DagsterInstance,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    customer = billing.customer("cus_1", "Acme")
    billing.document("NL-1", customer, [("prod_beta_ai", 1, 9900, "tax_nl_21")])
    make_engine().stage(WINDOW)
    said: list[str] = []

    receiver.failures.append(503)
    with pytest.raises(Exception) as answered:
        tick(build_defs, SENSOR, dagster_instance, None)
    said.append(_chain(answered.value))
    assert "the webhook answered 503" in said[-1]

    # Unreachable: nothing listens at the URL's port.
    monkeypatch.setenv("ALERT_WEBHOOK_URL", f"http://127.0.0.1:{free_port()}{SECRET_PATH}")
    with pytest.raises(Exception) as unreachable:
        tick(build_defs, SENSOR, dagster_instance, None)
    said.append(_chain(unreachable.value))
    assert "the webhook could not be reached (Connection refused)" in said[-1]
    assert receiver.posts == []

    monkeypatch.setenv("ALERT_WEBHOOK_URL", receiver.url)
    said.append(alert_tick(build_defs, dagster_instance))
    said.append(alert_tick(build_defs, dagster_instance))

    assert len(receiver.posts) == 1
    assert receiver.paths == [SECRET_PATH]
    said += [caplog.text, *receiver.texts()]
    assert not [text for text in said if "SECRET" in text or "hush" in text]


def _chain(error: BaseException) -> str:
    """An error with everything it was raised from, as a tick's failure shows it."""
    texts = []
    current: BaseException | None = error
    while current is not None:
        texts.append(f"{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    return "\n".join(texts)
