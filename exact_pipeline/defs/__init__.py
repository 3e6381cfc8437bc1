"""The Dagster shell, autoloaded by exact_pipeline/definitions.py: one folder per domain, each
a few lines over the engines in `exact_pipeline.sync`.

- `mappings/`: the mapping tables asset, its validation job, the sensor on table changes;
- `documents/`: customers, payloads and documents per daily partition, their daily checks, the
  `exact_sync` job, its hourly schedule and the sensor on billing's changes;
- `payments/`: payments pushed per partition, or imported hourly and on Exact's webhooks;
- `reconciliation/`: billing against Exact per month, exported as CSV, with its check;
- `connection/`: the daily call that keeps Exact's token chain alive;
- `operations/`: self-serve operations launched with a small config (`resync_range`).

Shared by them: `resources.py` (one resource per system: billing database, state database,
Exact Online, mapping tables), `partitions.py`, `steps.py` (engine, pool, failures),
`metadata.py` (what the UI shows); `run_health.py` is the run launcher dagster.yaml selects.
"""
