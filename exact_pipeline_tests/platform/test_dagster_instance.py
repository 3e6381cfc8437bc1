"""The test Dagster instance is a real Postgres-backed instance (dagster-postgres)."""

import dagster as dg


def test_instance_storage_is_postgres(dagster_instance: dg.DagsterInstance) -> None:
    @dg.asset
    def ping() -> int:
        return 1

    result = dg.materialize([ping], instance=dagster_instance)
    assert result.success
    assert type(dagster_instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(dagster_instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert dagster_instance.get_latest_materialization_event(dg.AssetKey("ping")) is not None
