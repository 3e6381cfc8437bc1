"""The Dagster shell, autoloaded by exact_pipeline/definitions.py: one folder per domain, each
a few lines over the engines in `exact_pipeline.sync`.

- `mappings/`: the mapping tables asset, its validation job, the sensor on table changes;
- `documents/`: customers, payloads and documents per daily partition, their daily checks, the
  `exact_sync` job, its hourly schedule and the sensor on billing's changes;
- `payments/`: payments pushed per partition or imported hourly;
- `connection/`: the daily call that keeps Exact's token chain alive.

Shared by them: `resources.py` (one resource per system: billing database, state database,
Exact Online, mapping tables), `partitions.py`, `steps.py` (engine, pool, failures),
`metadata.py` (what the UI shows); `run_health.py` is the run launcher dagster.yaml selects.
"""
