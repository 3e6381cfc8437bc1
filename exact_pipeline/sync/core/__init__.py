"""What both sync domains share (see `exact_pipeline.sync`)."""
