"""`python -m exact_pipeline.demo.sandbox_main --port N [--state FILE]`: the `exact-pipeline
sandbox` command without loading the project's other command groups (a faster start)."""

from exact_pipeline.demo.cli import sandbox

sandbox()
