"""The code location of test_run_monitoring: a run whose one step claims a division's slot, as
the sync steps do (division_slots.py), and holds it, launched by the daemon for each file in
`$HOLDER_DIR/requests/`."""

import os
import time
from pathlib import Path

import dagster as dg

from exact_pipeline.defs.division_slots import DivisionSlots, pool_of
from exact_pipeline.defs.run_health import stop_with_run_worker

DIVISION = 310001
POOL = pool_of(DIVISION)


def holder_dir() -> Path:
    return Path(os.environ["HOLDER_DIR"])


@dg.asset
def holder(context: dg.AssetExecutionContext) -> None:
    """Holds the slot until killed, like a long sync step; says which processes run it."""
    stop_with_run_worker()  # as every step does before any call to Exact (defs/steps.py)
    with DivisionSlots.of_step(context).held(DIVISION):
        marker = holder_dir() / "holding" / context.run_id
        marker.write_text(f"{os.getpid()} {os.getppid()}")
        time.sleep(600)


hold = dg.define_asset_job("hold", selection=[holder])


@dg.sensor(job=hold, minimum_interval_seconds=1, default_status=dg.DefaultSensorStatus.RUNNING)
def hold_requests() -> list[dg.RunRequest]:
    return [dg.RunRequest(run_key=path.name) for path in (holder_dir() / "requests").iterdir()]


defs = dg.Definitions(assets=[holder], jobs=[hold], sensors=[hold_requests])
