"""Rendering the PDFs of many documents on every core, in order, while the caller streams them.

Workers are forked, so they share the documents with the parent instead of receiving them
pickled; each renders a chunk and sends back only the bytes.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from time import perf_counter

from exact_pipeline.billing.models import BillingDocument, DocumentPdf
from exact_pipeline.demo.pdf import pdf_file_name, render_pdf

CHUNK = 100
# Below this many documents rendering in-process is quick (a filled template costs ~0.15 ms),
# and forking is avoided where it is riskiest: processes with threads (test workers, Dagster
# steps), where a forked child can inherit a lock held by another thread and hang.
FORK_FROM = 20_000

# The documents the forked workers render: set in the parent just before they are forked.
_documents: Sequence[BillingDocument] = ()


def _render_chunk(start: int) -> tuple[float, list[bytes]]:
    started = perf_counter()
    pdfs = [render_pdf(doc) for doc in _documents[start : start + CHUNK]]
    return perf_counter() - started, pdfs


@dataclass
class RenderedPdfs:
    """(document id, PDF) pairs in the documents' order; `seconds` sums the workers' time."""

    documents: Sequence[BillingDocument]
    chunks: Iterator[tuple[float, list[bytes]]]
    processes: int
    seconds: float = 0.0

    def __iter__(self) -> Iterator[tuple[str, DocumentPdf]]:
        documents = iter(self.documents)
        for seconds, pdfs in self.chunks:
            self.seconds += seconds
            for content in pdfs:
                doc = next(documents)
                yield doc.id, DocumentPdf(pdf_file_name(doc.number), content)


def _usable_cores() -> int:
    """The cores this process may run on (a container's cpuset, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextmanager
def rendered_pdfs(documents: Sequence[BillingDocument]) -> Iterator[RenderedPdfs]:
    """Start rendering now, in the background; iterate the result to collect the PDFs."""
    global _documents
    _documents = documents
    processes = _usable_cores()
    if len(documents) < FORK_FROM or processes == 1:
        chunks = map(_render_chunk, range(0, len(documents), CHUNK))
        try:
            yield RenderedPdfs(documents, chunks, 1)
        finally:
            _documents = ()
        return
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            chunks = pool.imap(_render_chunk, range(0, len(documents), CHUNK))
            yield RenderedPdfs(documents, chunks, processes)
    finally:
        _documents = ()
