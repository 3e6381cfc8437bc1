"""The `exact-pipeline` command: one group per domain, each defined beside its code.

Subcommands are imported only when invoked, so `exact-pipeline sandbox` does not pay for the
Exact client's imports (and vice versa).
"""

from __future__ import annotations

import importlib

import click

COMMANDS = {
    "billing": ("exact_pipeline.billing.cli", "billing"),
    "mappings": ("exact_pipeline.mapping.cli", "mappings"),
    "sandbox": ("exact_pipeline.sandbox.cli", "sandbox"),
    "auth": ("exact_pipeline.exact.cli", "auth"),
    "demo": ("exact_pipeline.demo.cli", "demo"),
}
SUMMARIES = {
    "billing": "The billing database: create the schema, seed demo data.",
    "mappings": "Check the mapping tables.",
    "sandbox": "Serve the local Exact Online sandbox.",
    "auth": "Connect to Exact Online (OAuth2) and show the connection.",
    "demo": "Start Postgres, the sandbox and Dagster with demo data.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name]
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl(list(SUMMARIES.items()))


@click.group(cls=LazyGroup)
def main() -> None:
    """Push billing data into Exact Online, through Dagster."""


if __name__ == "__main__":
    main()
