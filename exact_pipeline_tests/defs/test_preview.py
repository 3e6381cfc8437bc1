"""The payload preview shows what will be posted: per document the Exact account it goes to and
its amounts, per line the item or GL account, the VAT code and the amounts (signed as in Exact),
in two tables whose key columns come first."""

from __future__ import annotations

import dagster as dg

from exact_pipeline_tests.defs.conftest import BuildDefs, materialization, run
from exact_pipeline_tests.sync.builder import Billing
from exact_pipeline_tests.sync.conftest import MappingFolder

DAY = "2026-11-20"
PAYLOADS = "exact_document_payloads"


def preview(defs: dg.Definitions, instance: dg.DagsterInstance) -> tuple[list[dict], list[dict]]:
    """The payloads asset alone (as the UI's Materialize on it): nothing is linked or posted."""
    result = run(defs, instance, partition_key=DAY, assets=[PAYLOADS])
    [staged] = materialization(result, PAYLOADS)
    documents, lines = (
        staged.metadata["payload preview"].value,
        staged.metadata["payload lines"].value,
    )
    return [r.data for r in documents.records], [r.data for r in lines.records]


def test_preview_lists_each_line_with_its_codes_amounts_and_exact_account(
    build_defs: BuildDefs,
    billing: Billing,
    connected: None,
    mapping_folder: MappingFolder,
    dagster_instance: dg.DagsterInstance,
) -> None:
    known = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    new = billing.customer("cus_1", "Acme B.V.")
    invoice = billing.document(
        "NL-1", known, [("prod_team", 1, 9900, "tax_nl_21"), ("prod_ebook", 2, 3900, "tax_nl_9")]
    )
    billing.document("CN-1", known, [("prod_team", 1, 9900, "tax_nl_21")], original=invoice)
    billing.document("NL-2", new, [("prod_beta_ai", 1, 1900, "tax_nl_21")])
    defs = build_defs()

    documents, lines = preview(defs, dagster_instance)

    assert documents == [
        {
            "number": "NL-1",
            "state": "staged",
            "exact_account": "10001 (customer_links.csv)",
            "division": 310001,
            "excl": "177.00",
            "vat": "27.81",
            "total": "204.81",
            "lines": 2,
            "reason": "",
        },
        {
            "number": "CN-1",
            "state": "staged",
            "exact_account": "10001 (customer_links.csv)",
            "division": 310001,
            "excl": "-99.00",
            "vat": "-20.79",
            "total": "-119.79",
            "lines": 1,
            "reason": "",
        },
        {
            "number": "NL-2",
            "state": "blocked",
            "exact_account": "matched or created on push",
            "division": 310001,
            "excl": "19.00",
            "vat": "3.99",
            "total": "22.99",
            "lines": 1,
            "reason": "line 1: product prod_beta_ai has no row in products.csv: add "
            f"`prod_beta_ai,<item code>,` to {mapping_folder.folder}/products.csv",
        },
    ]
    key = ("number", "line", "item", "gl_account", "vat_code", "quantity", "excl", "vat")
    assert [tuple(line[k] for k in key) for line in lines] == [
        ("NL-1", 1, "SUB-TEAM", "8000", "1", "1", "99.00", "20.79"),
        ("NL-1", 2, "HW-BOOK", "8030", "2", "2", "78.00", "7.02"),
        ("CN-1", 1, "SUB-TEAM", "8090", "1", "-1", "-99.00", "-20.79"),
    ]
    assert lines[0]["description"] == "Team plan (monthly)"


def test_preview_names_the_linked_account_and_sales_entry_lines_have_no_item(
    build_defs: BuildDefs,
    billing: Billing,
    connected: None,
    mapping_folder: MappingFolder,
    dagster_instance: dg.DagsterInstance,
) -> None:
    mapping_folder.setting("invoice_push_mode", "sales_entry")
    billing.document(
        "NL-1", billing.customer("cus_1", "Acme B.V."), [("prod_seat", 3, 1200, "tax_nl_21")]
    )
    defs = build_defs()
    run(defs, dagster_instance, partition_key=DAY)  # creates the customer's account in Exact

    [document], [line] = preview(defs, dagster_instance)

    assert document["state"] == "synced"
    assert document["exact_account"].isdigit()  # the account the push linked
    assert (line["item"], line["gl_account"], line["vat_code"]) == ("", "8000", "1")
