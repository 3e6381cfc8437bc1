"""The Dagster project as `dg` and the UI see it: `dg check defs` and `dg list defs` pass in the
repository, what they list is the definitions snapshot, and the resources show every setting
without any secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.remote_representation.external_data import (
    RepositorySnap,
    ResourceConfigEnvVarSnap,
)
from dagster._serdes import serialize_value

from exact_pipeline import definitions
from exact_pipeline.settings import EnvSettings

REPO = Path(__file__).resolve().parents[2]
SNAPSHOT = Path(__file__).with_name("definitions_snapshot.json")
SECRETS = {
    "BILLING_DATABASE_URL": "postgresql://billing:billing-password@db/billing",
    "STATE_DATABASE_URL": "postgresql://state:state-password@db/state",
    "EXACT_CLIENT_SECRET": "the-client-secret",
    "EXACT_TOKEN_KEY": "the-token-key",
}
WEBHOOKS = {"EXACT_WEBHOOK_URL", "EXACT_WEBHOOK_SECRET"}
PUBLIC = {
    "EXACT_BASE_URL": "https://exact.example",
    "EXACT_CLIENT_ID": "the-client-id",
    "EXACT_REDIRECT_URI": "https://pipeline.example/callback",
    "EXACT_MAPPINGS_DIR": str(REPO / "mappings"),
    "EXACT_RECONCILIATION_DIR": "/srv/exact-pipeline/reconciliation",
}


def dg_command(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`dg …` in the repository, as a developer or CI runs it (a throwaway instance)."""
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(home), "VIRTUAL_ENV": sys.prefix}
    return subprocess.run(
        [str(Path(sys.executable).with_name("dg")), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def snapshot(defs: dg.Definitions) -> dict[str, Any]:
    """The names a user meets in the UI: assets (with their group), checks, jobs, schedules
    (with their cron), sensors and resources (with their class)."""
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    return {
        "assets": {
            key.to_user_string(): graph.get(key).group_name
            for key in sorted(graph.get_all_asset_keys())
        },
        "asset_checks": sorted(key.to_user_string() for key in graph.asset_check_keys),
        "jobs": sorted(job.name for job in repo.get_all_jobs() if not job.name.startswith("__")),
        "schedules": {s.name: s.cron_schedule for s in sorted(repo.schedule_defs, key=_name)},
        "sensors": sorted(sensor.name for sensor in repo.sensor_defs),
        "resources": {
            name: f"{type(resource).__module__}.{type(resource).__name__}"
            for name, resource in sorted(defs.resources.items())
        },
    }


def _name(definition: dg.ScheduleDefinition) -> str:
    return definition.name


def test_definitions_snapshot() -> None:
    """A definition renamed, added or lost shows here (UPDATE_SNAPSHOT=1 rewrites the file)."""
    found = snapshot(definitions.defs())
    if os.environ.get("UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(found, indent=2) + "\n")
    assert found == json.loads(SNAPSHOT.read_text())


def test_dg_check_defs(tmp_path: Path) -> None:
    result = dg_command(tmp_path, "check", "defs")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr


def test_dg_list_defs_lists_the_snapshot(tmp_path: Path) -> None:
    result = dg_command(tmp_path, "list", "defs", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    listed = json.loads(result.stdout)
    expected = json.loads(SNAPSHOT.read_text())
    assert {a["asset_key"]: a["group_name"] for a in listed["assets"]} == expected["assets"]
    assert sorted(c["key"] for c in listed["asset_checks"]) == expected["asset_checks"]
    assert sorted(j["name"] for j in listed["jobs"]) == expected["jobs"]
    assert {s["name"]: s["cron_schedule"] for s in listed["schedules"]} == expected["schedules"]
    assert sorted(s["name"] for s in listed["sensors"]) == expected["sensors"]
    assert {r["name"]: r["type"] for r in listed["resources"]} == expected["resources"]


def test_resources_show_every_setting_and_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the code location sends the UI: each setting by value, or (secrets and database
    URLs) by its variable's name, and no secret value anywhere."""
    for name, value in {**SECRETS, **PUBLIC}.items():
        monkeypatch.setenv(name, value)
    snap = RepositorySnap.from_def(definitions.defs().get_repository_def())
    shown = {
        value.name if isinstance(value, ResourceConfigEnvVarSnap) else json.loads(value)
        for resource in snap.resources
        for value in resource.configured_values.values()
    }
    assert shown == {*SECRETS, *PUBLIC.values()}
    # Every environment setting is declared on a resource, but the webhook receiver's: only
    # `exact-pipeline webhooks serve|subscribe` read those, never the code location.
    assert {name.upper() for name in EnvSettings.model_fields} == {*SECRETS, *PUBLIC, *WEBHOOKS}
    serialized = serialize_value(snap)
    leaked = [name for name, secret in SECRETS.items() if secret in serialized]
    assert not leaked
