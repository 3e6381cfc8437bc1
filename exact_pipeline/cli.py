"""The `exact-pipeline` command: one group per domain, each defined beside its code."""

from __future__ import annotations

import click

from exact_pipeline.billing.cli import billing
from exact_pipeline.demo.cli import demo
from exact_pipeline.exact.cli import auth
from exact_pipeline.mapping.cli import mappings
from exact_pipeline.sandbox.cli import sandbox


@click.group()
def main() -> None:
    """Push billing data into Exact Online, through Dagster."""


main.add_command(billing)
main.add_command(sandbox)
main.add_command(auth)
main.add_command(demo)
main.add_command(mappings)

if __name__ == "__main__":
    main()
