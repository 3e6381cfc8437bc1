"""The freshness promise of the pushed documents: Dagster's `FreshnessPolicy` on
`exact_documents`, from `freshness_minutes` in settings.yaml (read when the code location
loads, like the partitions).

For a partitioned asset Dagster judges the asset as a whole: the time since the latest
materialization of any of its partitions (`TimeWindowFreshnessPolicyEvaluator` in Dagster 1.13).
Every run of `exact_documents` (the hourly schedule, the `billing_changes` sensor, a mapping fix,
a backfill) materializes it, also when nothing needed posting or a spent budget stopped it, so
the promise reads: a push finished within the window. Documents a push could not post are the
checks' business (and the alert sensor's), not freshness's.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from exact_pipeline.defs.partitions import AT_LOAD

# In a quiet hour only the hourly schedule (at :05) pushes, and its run ends a minute or so
# after it starts, so two pushes are an hour apart give or take seconds: without this
# allowance a one-hour promise would turn FAIL for a few seconds after most quiet hours.
RUN_ALLOWANCE = timedelta(minutes=10)
PROMISE = timedelta(minutes=AT_LOAD.settings.freshness_minutes)
DOCUMENTS_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=PROMISE + RUN_ALLOWANCE)
