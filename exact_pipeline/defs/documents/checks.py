"""Partitioned asset checks: one result per day, so each day's check says that day's truth.

An unpartitioned check keeps only its latest result: the hourly run of today replaced a
failing one of another day, and a range run showed one result for all its days. With
`partitions_def` on the spec (new in Dagster 1.13), every day keeps its own result until that
day runs again. `AssetCheckResult` takes its partition from the step, which a range run does not
have, so the results are `AssetCheckEvaluation`s with the partition and the materialization they
judge (the day's latest: Dagster shows a result only while it judges the latest one).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)

from exact_pipeline.defs import metadata
from exact_pipeline.defs.partitions import ZONE
from exact_pipeline.sync.documents.dead_letters import Attempt
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.documents.reports import cause_summary, problem_row

WARN = dg.AssetCheckSeverity.WARN


@dataclass(frozen=True)
class DayCheck:
    passed: bool
    description: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


def daily_check(
    name: str, asset: str, partitions: dg.PartitionsDefinition, description: str
) -> dg.AssetCheckSpec:
    with warnings.catch_warnings():
        # "Specifying a partitions_def on an AssetCheckSpec" is a preview: nothing to act on.
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(
            name, asset=asset, partitions_def=partitions, description=description
        )


def documents_check(
    problems: Sequence[tuple[LedgerRow, str | None]],
    stopped: str | None = None,
    histories: Mapping[str, Sequence[Attempt]] | None = None,
) -> DayCheck:
    """Red while any document of the day needs attention: how many and why first (grouped by
    cause, with the fix), then the documents, number first, and the history of each one given
    up on (every attempt: when, what Exact answered). `problems`: each row with the reason to
    show (None: the ledger's); `histories`: by billing id (`SyncEngine.histories`)."""
    summary = cause_summary(list(problems))
    description = metadata.causes_sentence(len(problems), summary) if problems else stopped
    figures: dict[str, Any] = {
        "count": len(problems),
        "causes": metadata.causes(summary),
        "documents": metadata.table([problem_row(row, reason) for row, reason in problems]),
    }
    numbers = {row.billing_id: row.number for row, _ in problems}
    attempts = [
        {"number": numbers[billing_id], **attempt.as_dict(ZONE)}
        for billing_id, found in (histories or {}).items()
        if billing_id in numbers
        for attempt in found
    ]
    if attempts:
        figures["dead_letter_history"] = metadata.table(attempts)
    return DayCheck(passed=not problems, description=description, metadata=figures)


def evaluations(
    context: dg.AssetExecutionContext | dg.OpExecutionContext,
    check_key: dg.AssetCheckKey,
    days: Mapping[str, DayCheck],
) -> Iterator[dg.AssetCheckEvaluation]:
    """One result per day for `check_key`. Yield them after the asset's materialization (so
    each targets its own day's), and `check_outputs` once for the step's own checks."""
    targets = latest_materializations(context.instance, check_key.asset_key, list(days))
    for key, day in days.items():
        yield dg.AssetCheckEvaluation(
            asset_key=check_key.asset_key,
            check_name=check_key.name,
            passed=day.passed,
            metadata=day.metadata,
            target_materialization_data=targets.get(key),
            severity=WARN,
            description=day.description,
            blocking=False,
            partition=key,
        )


def check_outputs(context: dg.AssetExecutionContext) -> Iterator[dg.Output[None]]:
    """The outputs of the step's own checks (their results are the evaluations)."""
    for key in context.selected_asset_check_keys:
        yield dg.Output(
            None, output_name=context.assets_def.get_output_name_for_asset_check_key(key)
        )


def latest_materializations(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, partitions: list[str]
) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    """Each partition's latest materialization: one query when the run just materialized them
    all (the newest records), one more per partition it did not."""
    latest: dict[str, AssetCheckEvaluationTargetMaterializationData] = {}
    for record in _newest(instance, asset_key, partitions, len(partitions)):
        if record.partition_key is not None and record.partition_key not in latest:
            latest[record.partition_key] = _target(record)
    for partition in partitions:
        if partition not in latest:
            for record in _newest(instance, asset_key, [partition], 1):
                latest[partition] = _target(record)
    return latest


def _newest(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, partitions: list[str], limit: int
) -> Sequence[dg.EventLogRecord]:
    if not partitions:
        return []
    records_filter = dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=partitions)
    return instance.fetch_materializations(records_filter, limit=limit).records


def _target(record: dg.EventLogRecord) -> AssetCheckEvaluationTargetMaterializationData:
    return AssetCheckEvaluationTargetMaterializationData(
        run_id=record.run_id, storage_id=record.storage_id, timestamp=record.timestamp
    )
