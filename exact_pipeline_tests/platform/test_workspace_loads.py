"""`workspace.yaml` and `dagster.yaml` load the way `dagster dev` loads them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from exact_pipeline.postgres import psycopg2_url

REPO = Path(__file__).resolve().parents[2]


def test_workspace_definitions_validate(
    tmp_path: Path, make_database: Callable[[str], str]
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_URL": psycopg2_url(make_database("workspace_load")),
    }
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr
