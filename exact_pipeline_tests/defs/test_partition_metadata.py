"""A range run's figures belong to their own day: each partition's materialization carries that
day's counts, API calls and documents, as plain integers the asset page plots."""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from exact_pipeline.defs.documents.automation import RANGE_END, RANGE_START
from exact_pipeline_tests.defs.conftest import BuildDefs, materialization, run
from exact_pipeline_tests.sync.builder import AMSTERDAM, Billing

TEAM = ("prod_team", 1, 9900, "tax_nl_21")
BETA = ("prod_beta_ai", 1, 1900, "tax_nl_21")
DAYS = ["2026-11-18", "2026-11-19", "2026-11-20"]


def on(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02}:00").replace(tzinfo=AMSTERDAM)


def per_day(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, dict[str, object]]:
    return {
        str(m.partition): {key: value.value for key, value in m.metadata.items()}
        for m in materialization(result, asset)
    }


def test_range_run_figures_are_per_day(
    build_defs: BuildDefs, billing: Billing, connected: None, dagster_instance: dg.DagsterInstance
) -> None:
    customer = billing.customer("cus_1", "Acme B.V.")
    billing.document("NL-A", customer, [TEAM], issued=on(DAYS[0]))
    billing.document("NL-B", customer, [TEAM], issued=on(DAYS[0], 11))
    billing.document("NL-BETA", customer, [BETA], issued=on(DAYS[1]))  # blocked; the 20th empty

    result = run(build_defs(), dagster_instance, tags={RANGE_START: DAYS[0], RANGE_END: DAYS[-1]})

    documents = per_day(result, "exact_documents")
    assert [documents[d]["synced"] for d in DAYS] == [2, 0, 0]
    assert [documents[d]["blocked"] for d in DAYS] == [0, 1, 0]
    assert [documents[d]["failed"] for d in DAYS] == [0, 0, 0]
    assert [documents[d]["documents_pushed"] for d in DAYS] == [2, 0, 0]
    calls = [documents[d]["api_calls"] for d in DAYS]
    assert calls[0] > 0 and calls[1:] == [0, 0]  # the blocked document costs no call
    numbers = {d: [r.data["number"] for r in documents[d]["documents"].records] for d in DAYS}
    assert numbers == {DAYS[0]: ["NL-A", "NL-B"], DAYS[1]: ["NL-BETA"], DAYS[2]: []}
    [first] = [m for m in materialization(result, "exact_documents") if m.partition == DAYS[0]]
    for figure in ("synced", "blocked", "failed", "api_calls"):
        assert isinstance(first.metadata[figure], dg.IntMetadataValue)  # what Dagster plots

    payloads = per_day(result, "exact_document_payloads")
    assert [payloads[d]["dagster/row_count"] for d in DAYS] == [2, 1, 0]
    assert [payloads[d]["documents_blocked"] for d in DAYS] == [0, 1, 0]
    customers = per_day(result, "exact_customers")
    assert [len(customers[d]["customers"].records) for d in DAYS] == [1, 1, 0]
