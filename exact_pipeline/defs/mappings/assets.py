"""The mapping tables as an asset: validated against each division's Exact master data. Their
fingerprint is the data version, so a change marks the synced partitions stale."""

from __future__ import annotations

import dagster as dg

from exact_pipeline.defs import metadata
from exact_pipeline.defs.resources import BillingDatabase, ExactOnline, MappingTables, StateDatabase
from exact_pipeline.defs.steps import WARN, connected, read_back
from exact_pipeline.sync.documents.engine import SyncEngine


@dg.asset(
    group_name="mappings",
    # No division slot (defs/division_slots.py): validation only reads a few master-data lists
    # per division, paced by the client (Exact's X-RateLimit headers; a 429 is waited out).
    # Holding a slot would make a mapping fix's sync run queue behind a step that posts nothing.
    kinds={"csv", "yaml"},
    check_specs=[dg.AssetCheckSpec("codes_exist_in_exact", asset="mapping_tables")],
    description="The mapping tables (mappings/), validated against each division's Exact "
    "master data. Their fingerprint is the data version: a change marks the synced "
    "partitions stale.",
)
def mapping_tables(
    billing_database: BillingDatabase,
    state_database: StateDatabase,
    exact_online: ExactOnline,
    mapping_tables: MappingTables,
) -> dg.MaterializeResult:
    systems = (billing_database, state_database, exact_online, mapping_tables)
    with connected(SyncEngine, *systems) as engine:
        validation, unread = read_back(engine.validate_mappings, engine.mappings.settings.zone)
        fingerprint = engine.mappings.fingerprint()
    if validation is None:
        return dg.MaterializeResult(
            data_version=dg.DataVersion(fingerprint),
            metadata={"fingerprint": fingerprint, "stopped": unread},
            check_results=[
                dg.AssetCheckResult(
                    check_name="codes_exist_in_exact",
                    passed=False,
                    severity=WARN,
                    description=f"not validated against Exact this run: {unread}",
                )
            ],
        )
    problems = [{"problem": problem} for problem in validation.problems]
    return dg.MaterializeResult(
        data_version=dg.DataVersion(fingerprint),
        metadata={"fingerprint": fingerprint, **validation.summary},
        check_results=[
            dg.AssetCheckResult(
                check_name="codes_exist_in_exact",
                passed=validation.ok,
                severity=WARN,
                metadata={"problems": metadata.table(problems), "count": len(problems)},
                description=None if validation.ok else "; ".join(validation.problems[:5]),
            )
        ],
    )


validate_mappings = dg.define_asset_job(
    "validate_mappings",
    selection=dg.AssetSelection.assets(mapping_tables),
    description="Validate the mapping tables against Exact's master data.",
)
