"""The code location: everything under `defs/` (one folder per domain, see defs/__init__.py),
loaded by Dagster's autoloading. `workspace.yaml`, `dg` (`[tool.dg]` in pyproject.toml) and
`dagster … -m exact_pipeline.definitions` all load this `defs`.
"""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
        # One process per run: the steps run one after another anyway (they depend on each
        # other; divisions go side by side in threads, defs/per_division.py), and a process per
        # step cost ~10 s of imports each, which is most of a small run's latency (a
        # sensor-triggered run, a mapping fix).
        dg.Definitions(executor=dg.in_process_executor),
    )
