"""When payments come from Exact: the `import_payments` job, every hour (it does nothing unless
`payment_sync` is exact_to_billing). Pushing payments to Exact runs with the documents
(`exact_payments` is in the `exact_sync` job)."""

import dagster as dg

from exact_pipeline.defs.partitions import TIMEZONE

import_payments = dg.define_asset_job(
    "import_payments",
    selection=dg.AssetSelection.assets("payments_from_exact"),
    description="Bring payments registered in Exact into billing (payment_sync exact_to_billing).",
)

hourly_payment_import = dg.ScheduleDefinition(
    name="hourly_payment_import",
    job=import_payments,
    cron_schedule="35 * * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every hour: payments registered in Exact into billing "
    "(does nothing unless payment_sync is exact_to_billing).",
)
