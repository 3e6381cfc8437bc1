"""The monthly reconciliation a controller signs: billing's documents of a month against the
sales journal Exact holds for it, per division and currency (counts, amounts excluding VAT, VAT
per code, totals, open and paid receivables), every difference listed document by document with
its explanation from the sync ledger.

- `exact_side`: what Exact booked, read in bulk (two endpoints, 1,000 rows a call);
- `billing_side`: what billing issued, with its payments (two queries);
- `compare`: the matching, the differences and their explanations, the totals;
- `report`: the month's report, as CSV and as markdown;
- `engine`: `Reconciler`, what Dagster (or a CLI, or a test) calls.
"""
