"""One writer per Exact division, divisions side by side (issue 13, item 1): real runs on a
Postgres-backed Dagster instance against the sandbox, each division's slot claimed through the
instance's concurrency API (defs/division_slots.py). "Another run" holding a division is a
claim made here under another run's id, as its step would make it."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import dagster as dg
import pytest

from exact_pipeline.defs.division_slots import DivisionSlots, pool_of
from exact_pipeline.defs.documents.automation import RANGE_END, RANGE_START
from exact_pipeline_tests.defs.conftest import BuildDefs, materialization, run
from exact_pipeline_tests.exact.conftest import BE, NL, SandboxAdmin
from exact_pipeline_tests.sync.builder import AMSTERDAM, Billing
from exact_pipeline_tests.sync.conftest import MappingFolder

PUSH = ("exact_document_payloads", "exact_documents")
INVOICES = "salesinvoice/SalesInvoices"
LIVE_DAY = "2026-11-20"
BE_ENTITY = """  ent_be:
    division: 320001
    sales_journal: "70"
    default_invoice_gl: "8000"
    default_credit_note_gl: "8090"
    bank_journal: "20"
    payment_condition: "14"
"""
HISTORY = ["2025-12-29", "2025-12-30", "2025-12-31"]  # before connection_date: a backfill
WAIT_SECONDS = 120  # a ceiling against a hung test, never a figure under test


@pytest.fixture(autouse=True)
def no_second_logging_setup(dagster_instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch):
    """Here two runs share one process (in production each run is a process of its own).
    Dagster sets up each run's loggers with `logging.config.dictConfig`, which can deadlock
    with another thread's logging (CPython's module lock against a handler's lock: seen as a
    hung suite). This instance has no `python_logs` handlers, so skipping that set-up changes
    nothing else."""
    monkeypatch.setattr(dagster_instance, "get_yaml_python_handlers", lambda: [])


class Background:
    """A run of `assets` in a thread (as a second run process would be), its run id known."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance, **options: Any):
        self.run_id = str(uuid.uuid4())
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(defs, instance, options))
        self._thread.start()

    def _run(self, defs: dg.Definitions, instance: dg.DagsterInstance, options: Any) -> None:
        try:
            run(defs, instance, assets=PUSH, run_id=self.run_id, **options)
        except BaseException as exc:  # re-raised by finish()
            self.error = exc

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def finish(self) -> None:
        self._thread.join(WAIT_SECONDS)
        assert not self._thread.is_alive(), "the run did not end"
        if self.error:
            raise self.error


def wait_until(condition: Callable[[], object]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)


def waiting(instance: dg.DagsterInstance, division: int) -> set[str]:
    """The runs waiting for the division's slot, as the UI's Concurrency page lists them."""
    return instance.event_log_storage.get_concurrency_info(pool_of(division)).pending_run_ids


def holders(instance: dg.DagsterInstance, division: int) -> set[str]:
    return instance.event_log_storage.get_concurrency_info(pool_of(division)).active_run_ids


@contextmanager
def other_run_holds(instance: dg.DagsterInstance, division: int) -> Iterator[str]:
    run_id = str(uuid.uuid4())
    with DivisionSlots(instance, run_id, "exact_documents").held(division):
        yield run_id


def refs(admin: SandboxAdmin, division: int) -> list[str]:
    return sorted(invoice["YourRef"] for invoice in admin.store(division, INVOICES))


def calls_to(admin: SandboxAdmin, division: int) -> int:
    return admin.requests()["by_division"].get(str(division), 0)


def issued(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T11:00").replace(tzinfo=AMSTERDAM)


@pytest.fixture
def documents(billing: Billing) -> Callable[[str, int, str], None]:
    nl = billing.customer("cus_nl", "Acme B.V.")
    be = billing.customer("cus_be", "Brasserie Zeeën", country="BE")

    def document(number: str, division: int, day: str = LIVE_DAY) -> None:
        if division == NL:
            billing.document(number, nl, [("prod_team", 1, 9900, "tax_nl_21")], issued=issued(day))
        else:
            line = ("prod_team", 1, 9900, "tax_be_21")
            billing.document(number, be, [line], entity="ent_be", issued=issued(day))

    return document


def test_a_division_pushes_while_another_run_holds_the_other_then_the_other_after_release(
    build_defs: BuildDefs,
    documents: Callable[..., None],
    admin: SandboxAdmin,
    connected: None,
    dagster_instance: dg.DagsterInstance,
) -> None:
    documents("NL-1", NL)
    documents("BE-1", BE)
    admin.clear_requests()

    with other_run_holds(dagster_instance, NL) as other:
        live = Background(build_defs(), dagster_instance, partition_key=LIVE_DAY)
        wait_until(lambda: refs(admin, BE) == ["BE-1"] and waiting(dagster_instance, NL))
        assert waiting(dagster_instance, NL) == {live.run_id}  # shown waiting, not failed
        assert holders(dagster_instance, NL) == {other}
        assert live.running
        assert refs(admin, NL) == []
        assert calls_to(admin, NL) == 0  # not a single call beside the other writer

    live.finish()
    assert refs(admin, NL) == ["NL-1"]
    assert holders(dagster_instance, NL) == holders(dagster_instance, BE) == set()


def test_two_runs_on_one_division_take_turns(
    build_defs: BuildDefs,
    documents: Callable[..., None],
    admin: SandboxAdmin,
    connected: None,
    dagster_instance: dg.DagsterInstance,
) -> None:
    documents("NL-1", NL, LIVE_DAY)
    documents("NL-2", NL, "2026-11-21")
    seen: list[set[str]] = []

    with other_run_holds(dagster_instance, NL):
        first = Background(build_defs(), dagster_instance, partition_key=LIVE_DAY)
        second = Background(build_defs(), dagster_instance, partition_key="2026-11-21")
        wait_until(lambda: waiting(dagster_instance, NL) == {first.run_id, second.run_id})
    deadline = time.monotonic() + WAIT_SECONDS
    while first.running or second.running:  # both now race for the one slot
        assert time.monotonic() < deadline, "the runs did not end"
        seen.append(holders(dagster_instance, NL))
        time.sleep(0.02)
    first.finish()
    second.finish()

    assert max(len(held) for held in seen) == 1  # never two writers at once
    assert {first.run_id, second.run_id} <= set().union(*seen)  # each wrote in its turn
    assert refs(admin, NL) == ["NL-1", "NL-2"]
    assert dagster_instance.event_log_storage.get_concurrency_info(pool_of(NL)).slot_count == 1


def test_a_backfill_yields_its_division_to_a_live_run_between_its_days(
    build_defs: BuildDefs,
    documents: Callable[..., None],
    admin: SandboxAdmin,
    connected: None,
    dagster_instance: dg.DagsterInstance,
) -> None:
    for index, day in enumerate(HISTORY):
        documents(f"NL-H{index}", NL, day)
    # The backfill's first post answers slowly: the live run asks for the division meanwhile.
    admin.faults(
        {"kind": "latency", "path": INVOICES, "method": "POST", "times": 1, "latency_ms": 3000}
    )
    backfill = Background(
        build_defs(), dagster_instance, tags={RANGE_START: HISTORY[0], RANGE_END: HISTORY[-1]}
    )
    wait_until(lambda: holders(dagster_instance, NL) == {backfill.run_id})

    live_run = str(uuid.uuid4())  # the live run's claim, at the default priority
    with DivisionSlots(dagster_instance, live_run, "exact_documents").held(NL):
        # Granted between two days of the backfill, which asks for it again (once it has read
        # its next day) and waits: it posts nothing meanwhile.
        assert backfill.running
        wait_until(lambda: waiting(dagster_instance, NL) == {backfill.run_id})
        assert len(refs(admin, NL)) < len(HISTORY)

    backfill.finish()
    assert refs(admin, NL) == ["NL-H0", "NL-H1", "NL-H2"]


def test_a_document_of_no_division_is_still_reported(
    build_defs: BuildDefs,
    documents: Callable[..., None],
    mapping_folder: MappingFolder,
    admin: SandboxAdmin,
    connected: None,
    dagster_instance: dg.DagsterInstance,
) -> None:
    mapping_folder.replace("settings.yaml", BE_ENTITY, "")  # ent_be goes to no division
    documents("NL-1", NL)
    documents("BE-1", BE)

    result = run(build_defs(), dagster_instance, assets=PUSH, partition_key=LIVE_DAY)

    [pushed] = materialization(result, "exact_documents")
    assert pushed.metadata["documents_pushed"].value == 1
    assert pushed.metadata["documents_blocked"].value == 1
    outcomes = {r.data["number"]: r.data["outcome"] for r in pushed.metadata["documents"].records}
    assert outcomes == {"NL-1": "pushed", "BE-1": "blocked"}
    assert refs(admin, NL) == ["NL-1"]
