"""`seed_billing`: fill a billing database with the demo company's data, fast.

Rows are generated in Python and streamed with COPY while forked workers render the PDFs on
every core (`pdf_batch`). Foreign keys and the per-document checks are verified once,
set-based, at the end (`database.bulk_load`), so a year of a mid-sized company loads in well
under a minute.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from time import perf_counter

from exact_pipeline.billing.database import (
    ConnectionOrUrl,
    apply_schema,
    bulk_load,
    connected,
    drop_schema,
    table_counts,
)
from exact_pipeline.billing.write import write_customers, write_documents, write_reference_data
from exact_pipeline.demo.documents import generate_demo_data
from exact_pipeline.demo.pdf_batch import rendered_pdfs


class SeedError(Exception):
    """The database cannot be seeded as asked."""


@dataclass(frozen=True)
class SeedReport:
    customers: int
    invoices: int  # finalized, voided ones included
    credit_notes: int
    drafts: int
    voided: int
    lines: int
    payments: int
    pdfs: int
    pdf_processes: int
    pdf_seconds: float  # rendering time summed over the processes; it overlaps the load
    generate_seconds: float
    load_seconds: float
    total_seconds: float

    def __str__(self) -> str:
        return (
            f"{self.customers} customers, {self.invoices} invoices ({self.voided} voided), "
            f"{self.credit_notes} credit notes, {self.drafts} drafts, {self.lines} lines, "
            f"{self.payments} payments, {self.pdfs} PDFs; "
            f"generated in {self.generate_seconds:.1f} s, loaded in {self.load_seconds:.1f} s "
            f"(PDFs: {self.pdf_seconds:.1f} s of rendering on {self.pdf_processes} processes), "
            f"total {self.total_seconds:.1f} s"
        )


def seed_billing(
    target: ConnectionOrUrl,
    *,
    seed: int = 42,
    customers: int = 200,
    months: int = 12,
    today: date | None = None,
    now: datetime | None = None,
    reset: bool = False,
) -> SeedReport:
    """Create the schema and load the demo data (deterministic for `seed` and a past `today`).

    Nothing is dated after `now` (default: this moment), so seeding today's data at 10:00 writes
    no document, payment or change of 15:00. Refuses a database whose billing tables hold data,
    unless `reset` drops them first.
    """
    moment = now or datetime.now(UTC)
    with _garbage_collector_paused():
        return _seed(target, seed, customers, months, today or date.today(), moment, reset)


@contextmanager
def _garbage_collector_paused() -> Iterator[None]:
    """Millions of long-lived objects and no cycles: the collector's repeated full passes over
    them would cost a quarter of the generation time."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _seed(
    target: ConnectionOrUrl,
    seed: int,
    customers: int,
    months: int,
    today: date,
    now: datetime,
    reset: bool,
) -> SeedReport:
    started = perf_counter()
    data = generate_demo_data(seed=seed, customers=customers, months=months, today=today, now=now)
    documents = data.documents
    finalized = [d for d in documents if d.status != "draft"]
    generated = perf_counter()

    with connected(target) as conn:
        if reset:
            drop_schema(conn)
        apply_schema(conn)
        with conn.transaction(), rendered_pdfs(finalized) as pdfs:
            if any(table_counts(conn).values()):
                raise SeedError("the billing tables already hold data; reset to replace them")
            with bulk_load(conn):
                write_reference_data(conn, data.reference)
                write_customers(conn, data.customers)
                write_documents(conn, documents, pdfs)
        conn.execute("ANALYZE")  # fresh statistics, so the first reads plan well
    finished = perf_counter()

    return SeedReport(
        customers=len(data.customers),
        invoices=sum(d.type == "invoice" for d in finalized),
        credit_notes=sum(d.is_credit_note for d in documents),
        drafts=len(documents) - len(finalized),
        voided=sum(d.status == "voided" for d in documents),
        lines=sum(len(d.lines) for d in documents),
        payments=sum(len(d.payments) for d in documents),
        pdfs=len(finalized),
        pdf_processes=pdfs.processes,
        pdf_seconds=pdfs.seconds,
        generate_seconds=generated - started,
        load_seconds=finished - generated,
        total_seconds=finished - started,
    )
