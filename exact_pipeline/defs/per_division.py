"""A step's divisions worked side by side: a thread per Exact division, each with its own engine
(its own state connection) over the step's one `ExactClient` (thread-safe: token refresh is
single-flight under a lock, budgets and the server clock are locked, requests to one division
go one at a time, httpx's client and the stores' connection pool are shared safely), each
holding its division's slot (division_slots.py) while it calls Exact. A division another run
holds waits while the others work. The reports of the divisions are merged per day."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import TypeVar

import dagster as dg

from exact_pipeline.defs.division_slots import DivisionSlots
from exact_pipeline.defs.resources import BillingDatabase, ExactOnline, MappingTables, StateDatabase
from exact_pipeline.defs.run_health import stop_with_run_worker
from exact_pipeline.defs.steps import E, dead_connection_fails
from exact_pipeline.mapping import Mappings
from exact_pipeline.sync.core.outcomes import CUSTOMER_OUTCOMES
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents.reports import CustomerReport, PushReport

T = TypeVar("T")


def each_division(
    context: dg.AssetExecutionContext,
    kind: type[E],
    systems: tuple[BillingDatabase, StateDatabase, ExactOnline, MappingTables],
    work: Callable[[E, int, DivisionSlots], T],  # the division's engine, its number, the slots
    *,
    days: int = 1,
) -> dict[int, T]:
    """`work` for each division of the mapping tables, concurrently, by division. `days`: how
    many days the run covers (a range run's claims yield to live runs, division_slots.py)."""
    billing, state, exact, mapping_tables = systems
    tables = mapping_tables.tables
    divisions = mapped_divisions(tables)
    slots = DivisionSlots.of_step(context, days=days)
    stop_with_run_worker()  # never an orphan calling Exact beside the next run
    with dead_connection_fails(), exact.client(state) as client, ExitStack() as engines:
        # Opened one after the other: the first creates the state tables if they are missing.
        opened = {
            division: engines.enter_context(
                kind(billing_url=billing.url, state_url=state.url, mappings=tables, exact=client)
            )
            for division in divisions
        }
        with ThreadPoolExecutor(max(len(divisions), 1), thread_name_prefix="division") as pool:
            futures = {d: pool.submit(work, engine, d, slots) for d, engine in opened.items()}
            try:
                return {division: future.result() for division, future in futures.items()}
            finally:  # a failed worker (a stopped run) ends the others' waits and next days
                slots.cancelled.set()


def mapped_divisions(tables: Mappings) -> list[int]:
    """The Exact divisions the mapping tables send documents to, by number."""
    return sorted({entity.division for entity in tables.settings.entities.values()})


def merged_pushes(window: Window, reports: Iterable[PushReport]) -> PushReport:
    """The divisions' pushes of one window as one report."""
    parts = list(reports)
    merged = PushReport(window, rows=[row for report in parts for row in report.rows])
    merged.counts = summed(merged.counts, (report.counts for report in parts))
    merged.api_calls = {d: n for report in parts for d, n in report.api_calls.items()}
    merged.stopped = stopped_of(report.stopped for report in parts)
    return merged


def merged_customers(window: Window, reports: Iterable[CustomerReport]) -> CustomerReport:
    """The divisions' customer links of one window as one report."""
    parts = list(reports)
    return CustomerReport(
        window,
        rows=[row for report in parts for row in report.rows],
        counts=summed(dict.fromkeys(CUSTOMER_OUTCOMES, 0), (report.counts for report in parts)),
        stopped=stopped_of(report.stopped for report in parts),
    )


def summed(zero: dict[str, int], counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total = dict(zero)
    for part in counts:
        for outcome, n in part.items():
            total[outcome] = total.get(outcome, 0) + n
    return total


def stopped_of(sentences: Iterable[str | None]) -> str | None:
    """Why the divisions stopped, each sentence once; None when none did."""
    said = list(dict.fromkeys(s for s in sentences if s))
    return "; ".join(said) or None
