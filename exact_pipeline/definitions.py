"""The Definitions object that `workspace.yaml` loads: a thin shell over `exact_pipeline.defs`."""

import dagster as dg

defs = dg.Definitions()
