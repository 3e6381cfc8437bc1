"""Resync a range: what billing has and Exact lacks, found and pushed again; what differs, listed.

- `engine`: `Resync`, what Dagster's `resync_range` job (or the CLI, or a test) calls;
- `report`: its result as a table and counts.
"""
