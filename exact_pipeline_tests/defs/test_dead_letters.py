"""A document Exact keeps refusing, as the UI shows it: the day's checks red with its history,
then the one-click retry (`retry_dead_letters`) pushing it once the cause is gone and turning
the checks green."""

from __future__ import annotations

import dagster as dg

from exact_pipeline_tests.defs.conftest import BuildDefs, check, check_states, materialization, run
from exact_pipeline_tests.exact.conftest import SandboxAdmin
from exact_pipeline_tests.sync.builder import Billing
from exact_pipeline_tests.sync.conftest import MappingFolder

NL = 310001
DAY = "2026-11-20"
TEAM = ("prod_team", 1, 9900, "tax_nl_21")


def test_a_dead_letter_is_red_with_its_history_and_the_retry_job_pushes_it(
    build_defs: BuildDefs,
    billing: Billing,
    admin: SandboxAdmin,
    connected: None,
    mapping_folder: MappingFolder,
    dagster_instance: dg.DagsterInstance,
) -> None:
    mapping_folder.setting("give_up_after_attempts", "1")
    customer = billing.customer("cus_1", "Acme B.V.")
    billing.document("BAD-1", customer, [TEAM])
    billing.document("OK-1", customer, [TEAM])
    admin.faults(
        {
            "kind": "error",
            "path": "salesinvoice/SalesInvoices",
            "method": "POST",
            "status": 500,
            "body_contains": '"BAD-1"',
        }
    )
    defs = build_defs()

    result = run(defs, dagster_instance, partition_key=DAY)

    [pushed] = materialization(result, "exact_documents")
    assert pushed.metadata["dead_letter"].value == 1  # plotted per day
    assert pushed.metadata["documents_dead_letter"].value == 1

    for name in ("all_documents_synced", "no_blocked_documents"):
        red = check(result, name)
        assert not red.passed
        assert "needs a person: 1 failed attempt(s)" in (red.description or "")
        documents = red.metadata["documents"].value.records  # type: ignore[attr-defined]
        assert [(r.data["number"], r.data["state"]) for r in documents] == [
            ("BAD-1", "dead_letter")
        ]
        history = red.metadata["dead_letter_history"].value.records  # type: ignore[attr-defined]
        assert [(r.data["number"], r.data["event"]) for r in history] == [
            ("BAD-1", "refused"),
            ("BAD-1", "gave_up"),
        ]
        assert history[0].data["answer"] == "Injected fault (sandbox)"
        assert history[0].data["status"] == 500
    assert check_states(defs, dagster_instance, "exact_documents", "all_documents_synced") == {
        DAY: "FAILED"
    }

    admin.http.delete("/_sandbox/faults")
    job = defs.resolve_job_def("retry_dead_letters")
    retried = job.execute_in_process(
        instance=dagster_instance,
        run_config={"ops": {"put_back_dead_letters": {"config": {"documents": ["BAD-1"]}}}},
    )

    assert retried.success
    [output] = [e for e in retried.all_events if e.event_type == dg.DagsterEventType.STEP_OUTPUT]
    shown = output.event_specific_data.metadata  # type: ignore[union-attr]
    assert shown["put_back"].value == 1
    rows = shown["documents"].value.records  # type: ignore[attr-defined]
    assert [(r.data["number"], r.data["outcome"]) for r in rows] == [("BAD-1", "pushed")]
    assert sorted(r["YourRef"] for r in admin.store(NL, "salesinvoice/SalesInvoices")) == [
        "BAD-1",
        "OK-1",
    ]
    for asset, name in (
        ("exact_documents", "all_documents_synced"),
        ("exact_document_payloads", "no_blocked_documents"),
    ):
        assert check_states(defs, dagster_instance, asset, name) == {DAY: "SUCCEEDED"}


def test_the_retry_job_says_what_to_give(
    build_defs: BuildDefs, dagster_instance: dg.DagsterInstance
) -> None:
    job = build_defs().resolve_job_def("retry_dead_letters")
    result = job.execute_in_process(
        instance=dagster_instance,
        run_config={"ops": {"put_back_dead_letters": {"config": {}}}},
        raise_on_error=False,
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "name the documents to put back, or all of them" in str(failure.event_specific_data)
