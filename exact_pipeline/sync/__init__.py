"""The sync engine: billing's documents and payments into Exact Online, one domain per folder.

    core/        what both domains share; imports neither of them
      ledger.py    the ledger mechanism: tables of dataclass rows in the state database, reads,
                   writes that return the row (`RETURNING`), claims (advisory locks)
      writes.py    the write protocol: look up what may be posted, mark, POST once, unmark
      outcomes.py  the one vocabulary of outcomes (documents, customers, payments)
      errors.py    how Exact's failures are sorted (stops the run / the division / refused)
                   and worded for a failure the next run retries
      stops.py     divisions a run had to leave early, in one plain sentence
      money.py     billing's minor units ↔ Exact's decimal amounts, for people and payloads
      session.py   what an engine holds for one run (state connection, mappings, Exact client)
      window.py    `Window`: the span of times an engine call works on
      calls.py     API calls spent per division, as Exact counted them
    documents/   invoices and credit notes (and the customers they need)
      engine.py    `SyncEngine`: validate mappings, stage, link customers, push, reconcile
      mapping_check.py  the mapping tables against each division's master data
      transform.py plan a document from the mapping tables, bind Exact's codes
      hashing.py   a document's identities (content, entry, PDF), from it whole or its summary
      summaries.py a day's documents as a stage reads them: no line objects, no PDF bytes kept
      staging.py   what the ledger should say about a document now (staged, blocked, flagged …)
      reasons.py   why a document waits, is blocked or flagged: every such sentence, worded once
      customers.py billing customers → Exact accounts: link, match or create
      push.py      one document into Exact, step by step, never twice
      corrections.py  `corrections: credit_and_repost`: a posted document reversed and reposted
      reconcile.py Exact's totals against billing's
      ledger.py    the document and customer ledger (on `core.ledger`)
      reports.py, progress.py  what the engine reports, and progress lines while it pushes
    payments/    payments, either direction (`payment_sync`), on top of documents
      engine.py    `PaymentSync`: push, import, differences, pending, accept
      push.py      billing_to_exact: receipts as bank entries
      receipts.py  how a receipt is booked (bank journal, receivables GL, its reference)
      importer.py  exact_to_billing: Exact's settled items written into billing
      differences.py  "is it paid?" on both sides
      ledger.py, report.py, step.py  the payments ledger, the run's report, a step's tools
    resync/      a range's missing records found (the reconciliation's reading, look-ups by
                 id) and pushed again through documents and payments (`Resync`)

Arrows point down only: payments → documents → core, and each of them → `exact`, `mapping`
and `billing`. Exact's own vocabulary (payload models, field limits, type codes, open items)
lives in `exact`, never here.

Staging reads summaries (`summaries.py`): Postgres writes the text the content hash covers
and hashes each PDF, and Python hashes that text with the PDF's digest, so a stage builds no
object per line and receives no PDF; a document whose billing rows (by `xmin`), mapping tables
and ledger row are unchanged since a stage wrote it is not read at all. The push reads its
documents whole and prepares each once (`staging.prepare`: hashed, planned when needed);
staging writes only the rows whose values changed, so the push staging again what the payloads
step staged costs a read and no write; every ledger write returns the row it wrote.
"""
