"""The pipeline's own state that is not the sync ledger: the Exact client's stores in Postgres."""
