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
    "documents": ("exact_pipeline.sync.documents.cli", "documents"),
    "sandbox": ("exact_pipeline.demo.cli", "sandbox"),
    "auth": ("exact_pipeline.auth_cli", "auth"),
    "demo": ("exact_pipeline.demo.cli", "demo"),
    "demo-payments": ("exact_pipeline.demo.cli", "demo_payments"),
    "bench": ("exact_pipeline.bench", "bench"),
    "webhooks": ("exact_pipeline.webhooks.cli", "webhooks"),
    "resync": ("exact_pipeline.sync.resync.cli", "resync"),
}


# Subcommands a group gets from a package above it: filling the billing database with the demo
# company is the demo's, so billing/ does not import demo/.
EXTRA = {"billing": [("exact_pipeline.demo.cli", "seed_command")]}


def _load(module: str, attribute: str) -> click.Command:
    return getattr(importlib.import_module(module), attribute)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        command = _load(*COMMANDS[cmd_name])
        if isinstance(command, click.Group):
            for extra in EXTRA.get(cmd_name, []):
                command.add_command(_load(*extra))
        return command


@click.group(cls=LazyGroup)
def main() -> None:
    """Push billing data into Exact Online, through Dagster."""


if __name__ == "__main__":
    main()
