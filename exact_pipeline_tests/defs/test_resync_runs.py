"""Resync a range through Dagster itself (Postgres-backed instance, sandbox over HTTP) and from
the command line: after a bookkeeper deletes an entry in Exact, a dry run of `resync_range`
lists it and posts nothing; the real run pushes it once, with its table and counts as the op's
output metadata; `exact-pipeline resync` then finds nothing left."""

from __future__ import annotations

from typing import Any

import dagster as dg
from click.testing import CliRunner

from exact_pipeline.cli import main
from exact_pipeline.settings import env_settings
from exact_pipeline_tests.defs.conftest import BuildDefs, run
from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin
from exact_pipeline_tests.sandbox.helpers import ExactClient as SandboxClient
from exact_pipeline_tests.sync.builder import Billing
from exact_pipeline_tests.sync.conftest import MappingFolder
from exact_pipeline_tests.sync.payments import conftest as payment_fixtures
from exact_pipeline_tests.sync.payments.conftest import posts

bookkeeper = payment_fixtures.bookkeeper
ENTRY_POST = "POST salesentry/SalesEntries"


def resync_job(defs: dg.Definitions, instance: dg.DagsterInstance, **config: Any) -> dict[str, Any]:
    """Launch `resync_range` as the Launchpad would; the op's output metadata."""
    job = defs.resolve_job_def("resync_range")
    result = job.execute_in_process(
        instance=instance,
        run_config={
            "ops": {"resync": {"config": {"start": "2026-11-01", "end": "2026-11-30"} | config}}
        },
    )
    assert result.success
    [output] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_OUTPUT]
    return {k: v.value for k, v in output.event_specific_data.metadata.items()}  # type: ignore[union-attr]


def test_a_deleted_entry_is_listed_by_a_dry_run_then_pushed_once_by_the_job(
    build_defs: BuildDefs,
    billing: Billing,
    admin: SandboxAdmin,
    connected: None,
    mapping_folder: MappingFolder,
    bookkeeper: SandboxClient,
    dagster_instance: dg.DagsterInstance,
) -> None:
    mapping_folder.setting("invoice_push_mode", "sales_entry")
    customer = billing.customer("cus_1", "Acme B.V.")
    billing.document("NL-1", customer, [("prod_team", 1, 9900, "tax_nl_21")])
    billing.document("NL-2", customer, [("prod_seat", 3, 1200, "tax_nl_21")])
    defs = build_defs()
    run(defs, dagster_instance, partition_key="2026-11-20")
    [entry] = [e for e in admin.store(NL, "salesentry/SalesEntries") if e["YourRef"] == "NL-2"]
    deleted = bookkeeper.delete(f"salesentry/SalesEntries(guid'{entry['EntryID']}')")
    assert deleted.status_code == 204, deleted.text
    admin.clear_requests()

    dry = resync_job(defs, dagster_instance, scope=["documents"], dry_run=True)

    assert posts(admin) == 0
    assert (dry["differences"], dry["would_re_push"], dry["re_pushed"]) == (1, 1, 0)
    assert dry["dry_run"] is True
    assert "| documents | NL-2 | 2026-11-20 | 310001 | missing in Exact |" in str(
        dry["differences_table"]
    )

    done = resync_job(defs, dagster_instance, scope=["documents"])

    assert admin.count(ENTRY_POST) == 1 and posts(admin) == 1
    assert (done["differences"], done["re_pushed"], done["documents: missing in Exact"]) == (
        1,
        1,
        1,
    )
    assert done["api_calls"] > 0
    assert "| re_pushed | in Exact now as entry " in str(done["differences_table"])
    assert str(done["summary"]).startswith("Resync 2026-11-01…2026-11-30 (documents): ")
    assert [e["YourRef"] for e in admin.store(NL, "salesentry/SalesEntries")].count("NL-2") == 1

    # The same from a terminal, with the deployment's environment: nothing is left.
    env_settings.cache_clear()
    admin.clear_requests()
    cli = CliRunner().invoke(main, ["resync", "--from", "2026-11-01", "--to", "2026-11-30"])
    env_settings.cache_clear()

    assert cli.exit_code == 0, cli.output
    assert "0 difference(s)" in cli.output and posts(admin) == 0


def test_the_resync_job_refuses_a_range_it_cannot_read(
    build_defs: BuildDefs, dagster_instance: dg.DagsterInstance
) -> None:
    job = build_defs().resolve_job_def("resync_range")
    result = job.execute_in_process(
        instance=dagster_instance,
        run_config={"ops": {"resync": {"config": {"start": "2026-11-30", "end": "2026-11-01"}}}},
        raise_on_error=False,
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "ends (2026-11-01) before it starts (2026-11-30)" in str(failure.event_specific_data)
