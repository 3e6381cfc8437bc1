"""Self-serve resync of a range: the `resync_range` job, launched from the UI (Jobs →
resync_range → Launchpad) with a small config:

    ops:
      resync:
        config:
          start: "2026-11-01"                 # YYYY-MM-DD, issue (and payment) days
          end: "2026-11-30"                   # included
          scope: [documents, customers, payments]   # any of them; default all
          dry_run: false                      # true: only list what differs

It finds what billing has and Exact lacks over the range (entries a bookkeeper deleted,
documents that never arrived, customers whose account is gone, receipts gone) and pushes them
again through the engines' normal path, one writer per division (its slot held); nothing Exact
holds is posted twice (sync/resync/engine.py). The op's output lists every difference and what
was done, with counts and the calls used. A spent budget stops a division green, saying when
to run it again. `exact-pipeline resync --from … --to …` does the same from a terminal.
"""

# No `from __future__ import annotations`: Dagster reads the op's config annotation as a class.
from datetime import date

import dagster as dg
from pydantic import Field

from exact_pipeline.defs.division_slots import DivisionSlots
from exact_pipeline.defs.resources import BillingDatabase, ExactOnline, MappingTables, StateDatabase
from exact_pipeline.defs.steps import connected
from exact_pipeline.sync.resync.engine import SCOPES, Resync


class ResyncConfig(dg.Config):
    start: str = Field(description="YYYY-MM-DD: the range's first day (issue or payment day)")
    end: str = Field(description="YYYY-MM-DD: the range's last day (included)")
    scope: list[str] = Field(
        default_factory=lambda: list(SCOPES),
        description="any of documents, customers, payments (default: all)",
    )
    dry_run: bool = Field(False, description="only list what differs: no reset, no push")


@dg.op(
    description="Find what billing has and Exact lacks over a date range (deleted in Exact, "
    "never arrived), push it again (nothing Exact holds is posted twice), and list what differs."
)
def resync(
    context: dg.OpExecutionContext,
    config: ResyncConfig,
    billing_database: BillingDatabase,
    state_database: StateDatabase,
    exact_online: ExactOnline,
    mapping_tables: MappingTables,
) -> dg.Output[None]:
    try:
        first, last = date.fromisoformat(config.start), date.fromisoformat(config.end)
    except ValueError as wrong:
        raise dg.Failure(description=f"resync_range: {wrong}", allow_retries=False) from None
    systems = (billing_database, state_database, exact_online, mapping_tables)
    slots = DivisionSlots(context.instance, context.run_id, str(context.op_handle))
    with connected(Resync, *systems) as engine:
        try:
            report = engine.run(
                first, last, tuple(config.scope), dry_run=config.dry_run, hold=slots.held
            )
        except ValueError as wrong:
            raise dg.Failure(description=f"resync_range: {wrong}", allow_retries=False) from None
    for stopped in report.stopped:
        context.log.warning(stopped)
    context.log.info(report.sentence())
    return dg.Output(
        None,
        metadata={
            **report.counts(),
            "api_calls": report.api_calls,
            "dry_run": report.dry_run,
            "summary": report.sentence(),
            "differences_table": dg.MetadataValue.md(report.markdown()),
        },
    )


@dg.job(
    description="Resync a date range: what billing has and Exact lacks (deleted by a "
    "bookkeeper, never arrived) is pushed again, and what differs is listed. Config: start, "
    "end (YYYY-MM-DD), scope (documents, customers, payments), dry_run."
)
def resync_range() -> None:
    resync()
