"""The Definitions object that `workspace.yaml` loads: a thin shell over `exact_pipeline.sync`.

The partitions follow the mapping tables (history_start, timezone), so they are read here; a
bad table stops the code location from loading with the table's own error message.
"""

import warnings

import dagster as dg

from exact_pipeline.defs.assets import build_sync_assets, mapping_tables, payments_from_exact
from exact_pipeline.defs.automation import build_automation, build_import_job, build_jobs
from exact_pipeline.defs.connection import keep_alive_schedule, keep_exact_connection_alive
from exact_pipeline.defs.partitions import daily_partitions
from exact_pipeline.defs.resources import ExactSync, exact_sync_from_env
from exact_pipeline.mapping import Mappings, load_mappings
from exact_pipeline.settings import MappingsLocation

# `BackfillPolicy` is beta in Dagster 1.13, and each load of these definitions (the code server,
# every run and step process) would say so on the terminal: nothing a reader can act on.
warnings.filterwarnings("ignore", "Parameter `backfill_policy`", category=dg.BetaWarning)


def build_definitions(mappings: Mappings, exact_sync: ExactSync) -> dg.Definitions:
    partitions = daily_partitions(mappings)
    sync_job, validate_job = build_jobs(partitions)
    import_job = build_import_job()
    schedules, sensors = build_automation(mappings, partitions, sync_job, validate_job, import_job)
    return dg.Definitions(
        assets=[mapping_tables, *build_sync_assets(partitions), payments_from_exact],
        jobs=[sync_job, validate_job, import_job, keep_exact_connection_alive],
        schedules=[*schedules, keep_alive_schedule(mappings.settings.timezone)],
        sensors=sensors,
        resources={"exact_sync": exact_sync},
        # One process per run: the steps run one after another anyway (they depend on each
        # other and share the `exact_api` pool), and a process per step cost ~10 s of imports
        # each, which is most of a small run's latency (a sensor-triggered run, a mapping fix).
        executor=dg.in_process_executor,
    )


defs = build_definitions(
    load_mappings(MappingsLocation().exact_mappings_dir), exact_sync_from_env()
)
