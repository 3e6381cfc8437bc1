"""What every part of `exact-pipeline bench` shares: its output line and the sandbox app it
connects as."""

from __future__ import annotations

import click

from exact_pipeline.demo.sandbox_process import SandboxProcess, consent_code
from exact_pipeline.exact.config import ExactConfig
from exact_pipeline.mapping import Mappings


def line(label: str, text: str) -> None:
    click.echo(f"{label:<10}{text}")


BENCH_TOKEN_KEY = "bench"


def sandbox_config(sandbox: SandboxProcess) -> ExactConfig:
    """The app as the sandbox knows it (its tokens are stored under `BENCH_TOKEN_KEY`)."""
    return ExactConfig(
        base_url=sandbox.url,
        client_id="exact-pipeline-demo",
        client_secret="sandbox-secret",
        redirect_uri="http://127.0.0.1:8765/callback",
    )


def consent(sandbox: SandboxProcess, config: ExactConfig, mappings: Mappings) -> str:
    """An authorization code for every division of the mapping tables."""
    divisions = [e.division for e in mappings.settings.entities.values()]
    return consent_code(sandbox.url, config.client_id, config.redirect_uri, divisions)
