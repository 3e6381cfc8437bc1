"""One writer per Exact division across every run and process: a Dagster pool per division.

Exact's budgets (60 calls a minute, 5,000 a day) are per division, so each division has its own
pool (`exact_division_<number>`, limit 1 from dagster.yaml's `concurrency.pools.default_limit`)
and a step claims the slot of each division it works on, through the instance's concurrency API
as Dagster's own step executor does (`InstanceConcurrencyContext`): the claims show on the UI's
Concurrency page (who holds a division, who waits) and run monitoring frees those of a dead run
(`free_slots_after_run_end_seconds`), since they carry the run's id.

Each claim has its own step key (`<step>[<division>]`), so freeing one division's slot leaves
the others held. A run of several days (a backfill, a catch-up) releases its slot after each day
and claims it again one below the run's priority (`dagster/priority` tag): a live run (one day:
the hourly schedule, a billing change) waiting for the division goes first, after at most one
day of the backfill.

Only `dagster` is imported: the run-monitoring test's code location claims through this too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import dagster as dg
from dagster._core.storage.event_log.base import EventLogStorage
from dagster._core.storage.tags import PRIORITY_TAG

POOL_PREFIX = "exact_division_"
RANGE_PRIORITY_DROP = 1  # a range run's claims come after any live run's
FIRST_WAIT, MAX_WAIT = 0.5, 10.0  # seconds between checks while another run holds a division


def pool_of(division: int) -> str:
    return f"{POOL_PREFIX}{division}"


@dataclass
class DivisionSlots:
    """The claims of one step of one run (`step` names it in the UI)."""

    instance: dg.DagsterInstance
    run_id: str
    step: str
    priority: int = 0
    # Set when the step gives up (a worker failed, the run is stopping): waiting claims end.
    cancelled: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def of_step(cls, context: dg.AssetExecutionContext, *, days: int = 1) -> DivisionSlots:
        try:
            priority = int(context.run.tags.get(PRIORITY_TAG, "0"))
        except ValueError:
            priority = 0
        return cls(
            instance=context.instance,
            run_id=context.run.run_id,
            step=str(context.op_handle),
            priority=priority - RANGE_PRIORITY_DROP if days > 1 else priority,
        )

    @contextmanager
    def held(self, division: int) -> Iterator[None]:
        """The division's slot, waited for (polling, not busy) while another run holds it."""
        pool, key = pool_of(division), f"{self.step}[{division}]"
        storage = self.instance.event_log_storage
        try:
            self._claim(storage, pool, key)
            yield
        finally:  # also frees a claim still pending (a cancelled wait)
            storage.free_concurrency_slot_for_step(self.run_id, key)

    @contextmanager
    def all_held(self, divisions: Iterable[int]) -> Iterator[None]:
        """Every one of `divisions` (a step that works them together), claimed in the order of
        their numbers, as every step claims them: two steps never wait on each other."""
        with ExitStack() as held:
            for division in sorted(set(divisions)):
                held.enter_context(self.held(division))
            yield

    def _claim(self, storage: EventLogStorage, pool: str, key: str) -> None:
        if self.cancelled.is_set():  # a stopped step takes no further day
            raise dg.Failure(f"stopped before claiming {pool}")
        _ensure_pool(storage, pool)
        wait = FIRST_WAIT
        while not storage.claim_concurrency_slot(pool, self.run_id, key, self.priority).is_claimed:
            if self.cancelled.wait(wait):
                raise dg.Failure(f"stopped while waiting for {pool}")
            wait = min(wait * 2, MAX_WAIT)


def _ensure_pool(storage: EventLogStorage, pool: str) -> None:
    """The pool with the instance's default limit; limit 1 where the instance sets none (one
    writer per division is the point). A limit set by hand (the UI, the CLI) is kept."""
    if pool in storage.get_concurrency_keys():
        return
    storage.initialize_concurrency_limit_to_default(pool)
    if pool not in storage.get_concurrency_keys():
        storage.set_concurrency_slots(pool, 1)
