"""What every step that syncs shares: how it gets its engine from the four resources, and how
a dead connection or a spent budget shows in the UI."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import dagster as dg

from exact_pipeline.defs.partitions import DAILY
from exact_pipeline.defs.resources import BillingDatabase, ExactOnline, MappingTables, StateDatabase
from exact_pipeline.defs.run_health import stop_with_run_worker
from exact_pipeline.exact.errors import ReauthorizationRequired
from exact_pipeline.sync.core.errors import STOPS_THE_DIVISION, for_people
from exact_pipeline.sync.core.stops import not_read_back
from exact_pipeline.sync.documents.engine import SyncEngine
from exact_pipeline.sync.payments.engine import PaymentSync

WARN = dg.AssetCheckSeverity.WARN
E = TypeVar("E", SyncEngine, PaymentSync)
T = TypeVar("T")


@contextmanager
def dead_connection_fails() -> Iterator[None]:
    """A dead token chain fails the step with what to do, and is not retried: nothing can work
    until someone runs `exact-pipeline auth login`."""
    try:
        yield
    except ReauthorizationRequired as exc:
        raise dg.Failure(description=for_people(exc), allow_retries=False) from exc


@contextmanager
def connected(
    kind: type[E],
    billing: BillingDatabase,
    state: StateDatabase,
    exact: ExactOnline,
    mapping_tables: MappingTables,
) -> Iterator[E]:
    """The document (`SyncEngine`) or payment (`PaymentSync`) engine for one step, with its own
    Exact client (master data from the state database's cache) and the run's mapping tables."""
    stop_with_run_worker()  # never an orphan calling Exact beside the next run
    with (
        dead_connection_fails(),
        exact.client(state) as client,
        kind(
            billing_url=billing.url,
            state_url=state.url,
            mappings=mapping_tables.tables,
            exact=client,
        ) as engine,
    ):
        yield engine


def read_back(read: Callable[[], T], zone: ZoneInfo) -> tuple[T | None, str | None]:
    """What a check reads from Exact, or (None, why not) when Exact's daily budget (or access)
    stops it: the check says so and the run stays green."""
    try:
        return read(), None
    except STOPS_THE_DIVISION as stop:
        return None, not_read_back(stop, zone)


# `BackfillPolicy` is beta in Dagster 1.13, and each load of these definitions (the code server,
# every run) would say so on the terminal: nothing a reader can act on.
warnings.filterwarnings("ignore", "Parameter `backfill_policy`", category=dg.BetaWarning)
SYNC_GROUP = "exact_sync"
# The partitioned sync assets. One single run covers a whole backfill range (no per-day process
# overhead); every load is idempotent, so any range can be re-run. Figures and check results are
# per day, also in a range run (`days_of`, documents/checks.py).
DAILY_SYNC: dict[str, Any] = {
    "partitions_def": DAILY,
    "backfill_policy": dg.BackfillPolicy.single_run(),
    # No step-wide pool: each step claims the pool of each division it calls (division_slots.py),
    # so divisions work side by side and a live run never waits behind a whole backfill.
    "group_name": SYNC_GROUP,
}
