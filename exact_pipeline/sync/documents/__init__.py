"""Invoices and credit notes into Exact, with their customers (see `exact_pipeline.sync`)."""
