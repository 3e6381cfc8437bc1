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
    "auth": ("exact_pipeline.auth_cli", "auth"),
    "demo": ("exact_pipeline.demo.cli", "demo"),
    "demo-payments": ("exact_pipeline.demo.cli", "demo_payments"),
    "bench": ("exact_pipeline.bench", "bench"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name]
        return getattr(importlib.import_module(module), attribute)


@click.group(cls=LazyGroup)
def main() -> None:
    """Push billing data into Exact Online, through Dagster."""


if __name__ == "__main__":
    main()
