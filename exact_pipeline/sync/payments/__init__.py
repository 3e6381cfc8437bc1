"""Payments between billing and Exact, either direction (see `exact_pipeline.sync`)."""
