"""Where the monthly reconciliation is exported: one CSV file per month in a folder."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from exact_pipeline.settings import PublicSettings


class ReconciliationExport(dg.ConfigurableResource):
    """The folder of the monthly reconciliation files (`reconciliation-<month>.csv`). A
    deployment whose runs execute on other machines points it at shared storage."""

    folder: str = Field(
        description="EXACT_RECONCILIATION_DIR; default: $DAGSTER_HOME/reconciliation"
    )

    @property
    def path(self) -> Path:
        return Path(self.folder)


def export_folder() -> Path:
    configured = PublicSettings().exact_reconciliation_dir
    return configured or Path(os.environ.get("DAGSTER_HOME") or ".") / "reconciliation"


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={"reconciliation_export": ReconciliationExport(folder=str(export_folder()))}
    )
