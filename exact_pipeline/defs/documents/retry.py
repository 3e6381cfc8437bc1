"""One-click retry of the documents given up on (`dead_letter`, sync/documents/dead_letters.py):
the `retry_dead_letters` job, launched from the UI (Jobs → retry_dead_letters → Launchpad) with
a small config:

    ops:
      put_back_dead_letters:
        config:
          all: true                      # or
          documents: [F-2026-0042]       # billing document numbers (or billing ids)
          issued_from: "2026-11-01"      # optional: only documents of these days
          issued_to: "2026-11-30"

It puts them back (staged, attempts reset, history kept) and pushes their days at once, as a
run of those days would (their divisions' whole day, each division's slot held: what else waits
there goes too, and nothing is posted twice); the days' `no_blocked_documents` and
`all_documents_synced` checks are evaluated again, so the UI says where they stand now.
`exact-pipeline documents retry` puts them back without pushing (the next run of their day
posts them).
"""

# No `from __future__ import annotations`: Dagster reads the op's config annotation as a class.
from datetime import date

import dagster as dg
from pydantic import Field

from exact_pipeline.defs import metadata
from exact_pipeline.defs.division_slots import DivisionSlots
from exact_pipeline.defs.documents import checks as partition_checks
from exact_pipeline.defs.documents.assets import ALL_SYNCED, NO_BLOCKED, pushed_day_checks
from exact_pipeline.defs.partitions import DAILY
from exact_pipeline.defs.per_division import merged_pushes
from exact_pipeline.defs.resources import BillingDatabase, ExactOnline, MappingTables, StateDatabase
from exact_pipeline.defs.steps import connected
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents.dead_letters import Selection
from exact_pipeline.sync.documents.engine import SyncEngine


class RetryConfig(dg.Config):
    all: bool = Field(False, description="every dead letter (within the dates, when given)")
    documents: list[str] = Field(
        default_factory=list, description="billing document numbers (or billing ids)"
    )
    issued_from: str | None = Field(
        None, description="YYYY-MM-DD: only documents issued on or after that day"
    )
    issued_to: str | None = Field(
        None, description="YYYY-MM-DD: only documents issued on or before that day"
    )

    def selection(self) -> Selection:
        return Selection(
            all=self.all,
            documents=tuple(self.documents),
            issued_from=date.fromisoformat(self.issued_from) if self.issued_from else None,
            issued_to=date.fromisoformat(self.issued_to) if self.issued_to else None,
        )


@dg.op(
    description="Put the selected dead letters back (staged, attempts reset, history kept) "
    "and push their days at once; the days' document checks are evaluated again."
)
def put_back_dead_letters(
    context: dg.OpExecutionContext,
    config: RetryConfig,
    billing_database: BillingDatabase,
    state_database: StateDatabase,
    exact_online: ExactOnline,
    mapping_tables: MappingTables,
) -> dg.Output[None]:
    try:
        selection = config.selection()
    except ValueError as wrong:
        raise dg.Failure(description=f"retry_dead_letters: {wrong}", allow_retries=False) from None
    systems = (billing_database, state_database, exact_online, mapping_tables)
    slots = DivisionSlots(context.instance, context.run_id, str(context.op_handle))
    rows = []
    with connected(SyncEngine, *systems) as engine:
        put = engine.put_back(selection, by=f"the retry_dead_letters job (run {context.run_id})")
        if put.not_found:
            context.log.warning(f"not given up on (nothing to put back): {put.not_found}")
        days = sorted({row.partition_date.isoformat() for row in put.rows})
        numbers = {row.number for row in put.rows}
        for key in days:
            span = DAILY.time_window_for_partition_key(key)
            window = Window(start=span.start, end=span.end)
            divisions = {r.division for r in put.rows if r.partition_date.isoformat() == key}
            parts = []
            for division in sorted(d for d in divisions if d is not None):
                with slots.held(division):  # one writer per division, as the assets
                    parts.append(engine.push_documents(window, division))
            report = merged_pushes(window, parts)
            rows += [row for row in report.rows if row["number"] in numbers]
            synced, blocked = pushed_day_checks(engine, window, report)
            for check_key, day in ((ALL_SYNCED, synced), (NO_BLOCKED, blocked)):
                for evaluation in partition_checks.evaluations(context, check_key, {key: day}):
                    context.log_event(evaluation)
    context.log.info(f"put back {len(put.rows)} document(s), pushed {len(days)} day(s)")
    return dg.Output(
        None,
        metadata={
            "put_back": len(put.rows),
            "not_found": ", ".join(put.not_found) or "none",
            "days": ", ".join(days) or "none",
            "documents": metadata.table(rows),
        },
    )


@dg.job(
    description="Retry documents given up on (dead letters): all, or the billing document "
    "numbers in the config, optionally of a date range; puts them back and pushes them now."
)
def retry_dead_letters() -> None:
    put_back_dead_letters()
