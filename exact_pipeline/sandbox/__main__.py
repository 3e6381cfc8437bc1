"""`python -m exact_pipeline.sandbox --port N [--state FILE]`: the `exact-pipeline sandbox`
command without loading the project's other command groups (a faster start)."""

from exact_pipeline.sandbox.cli import sandbox

sandbox()
