"""Every defect of a mapping folder is reported with its file, row (line), column (key) and what
was expected. Each test loads a copy of the demo folder with one defect."""

from __future__ import annotations

from pathlib import Path

import pytest

from exact_pipeline.mapping import MappingError, load_mappings
from exact_pipeline_tests.mapping.variants import (
    DEMO,
    append,
    chain,
    line_of,
    only_problem,
    problems_of,
    replace,
    variant,
)


@pytest.mark.parametrize(
    ("key", "good", "choices"),
    [
        ("invoice_push_mode", "sales_invoice", "'sales_invoice' or 'sales_entry'"),
        ("customer_sync", "billing_to_exact", "'none' or 'billing_to_exact'"),
        ("payment_sync", "billing_to_exact", "'none', 'billing_to_exact' or 'exact_to_billing'"),
    ],
)
def test_unknown_mode_value(tmp_path: Path, key: str, good: str, choices: str) -> None:
    folder = variant(tmp_path, {"settings.yaml": replace(f"{key}: {good}", f"{key}: sometimes")})
    line = line_of(folder, "settings.yaml", f"{key}: sometimes")
    assert str(only_problem(folder)) == (
        f"settings.yaml, line {line}, key {key}: expected {choices}, got 'sometimes'"
    )


@pytest.mark.parametrize(
    ("file", "duplicate", "first_text", "column", "noun"),
    [
        ("products.csv", "prod_seat,SUB-SEAT-2,\n", "prod_seat,", "product_id", "product"),
        ("tax_codes.csv", "tax_be_6,2\n", "tax_be_6,", "tax_rate_id", "tax rate"),
        ("customer_links.csv", "cus_known_01,10009\n", "cus_known_01,", "customer_id", "customer"),
    ],
)
def test_duplicate_key_row(
    tmp_path: Path, file: str, duplicate: str, first_text: str, column: str, noun: str
) -> None:
    first_line = line_of(DEMO, file, first_text)
    folder = variant(tmp_path, {file: append(duplicate)})
    line = len((folder / file).read_text().splitlines())
    key = duplicate.split(",")[0]
    assert str(only_problem(folder)) == (
        f"{file}, row {line}, column {column}: expected each {noun} once, "
        f"got '{key}' again (first on row {first_line})"
    )


def test_missing_division_for_an_entity(tmp_path: Path) -> None:
    folder = variant(tmp_path, {"settings.yaml": replace("    division: 320001\n", "")})
    problem = only_problem(folder)
    # The key is absent, so the problem points at the entity that lacks it.
    assert problem.line == line_of(folder, "settings.yaml", "ent_be:")
    assert str(problem) == (
        f"settings.yaml, line {problem.line}, key entities.ent_be.division: missing; expected "
        "an Exact division number (a whole number from 1 to 2147483647, e.g. 310001)"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [("", "''"), ('""', "''"), ("abc", "'abc'"), ("3.5", "'3.5'"), ("0", "'0'"), ("-4", "'-4'")],
)
def test_empty_or_non_integer_division(tmp_path: Path, value: str, shown: str) -> None:
    folder = variant(
        tmp_path, {"settings.yaml": replace("division: 320001", f"division: {value}  # defect")}
    )
    line = line_of(folder, "settings.yaml", "# defect")
    assert str(only_problem(folder)) == (
        f"settings.yaml, line {line}, key entities.ent_be.division: expected an Exact division "
        f"number (a whole number from 1 to 2147483647, e.g. 310001), got {shown}"
    )


GL = "an Exact GL account code (1-20 letters, digits, dots or dashes, e.g. 8000)"
VAT = "an Exact VAT code (1-3 letters or digits, e.g. 1)"
JOURNAL = "an Exact journal code (1-10 letters or digits, e.g. 70)"
ITEM = "an Exact item code (1-30 characters, no spaces at either end)"
ACCOUNT = "an Exact account code (1-18 letters or digits, without the padding, e.g. 10001)"
BILLING_ID = "a billing id (1-100 characters without spaces, e.g. prod_starter)"
CONDITION = "an Exact payment-condition code (1-10 letters or digits, e.g. 14)"


@pytest.mark.parametrize(
    ("file", "old", "new", "column", "expected", "got"),
    [
        ("products.csv", "USE-API,8010", "USE-API,80 10", "gl_account", GL, "80 10"),
        ("products.csv", "prod_team,SUB-TEAM,", "prod_team,,", "item_code", ITEM, ""),
        ("products.csv", "SUB-STARTER", "X" * 31, "item_code", ITEM, "X" * 31),
        ("tax_codes.csv", "tax_nl_9,2", "tax_nl_9,BTW9", "vat_code", VAT, "BTW9"),
        ("tax_codes.csv", "tax_nl_0,0", "tax_nl_0,", "vat_code", VAT, ""),
        (
            "customer_links.csv",
            "cus_known_01,10001",
            "cus_known_01,10-001",
            "exact_account_code",
            ACCOUNT,
            "10-001",
        ),
        ("products.csv", "prod_sms,", "prod sms,", "product_id", BILLING_ID, "prod sms"),
    ],
)
def test_malformed_code_in_a_table(
    tmp_path: Path, file: str, old: str, new: str, column: str, expected: str, got: str
) -> None:
    folder = variant(tmp_path, {file: replace(old, new)})
    problem = only_problem(folder)
    line = line_of(folder, file, new)
    assert str(problem) == f"{file}, row {line}, column {column}: expected {expected}, got {got!r}"


@pytest.mark.parametrize(
    ("old", "new", "key", "expected", "got"),
    [
        (
            'default_invoice_gl: "8000"    #',
            "default_invoice_gl: 8000 A  #",
            "default_invoice_gl",
            GL,
            "8000 A",
        ),
        (
            'sales_journal: "70"',
            'sales_journal: "VERKOOPBOEK1"',
            "sales_journal",
            JOURNAL,
            "VERKOOPBOEK1",
        ),
        ('bank_journal: "20"', 'bank_journal: "2 0"', "bank_journal", JOURNAL, "2 0"),
        (
            'payment_condition: "14"',
            "payment_condition: 14 dagen",
            "payment_condition",
            CONDITION,
            "14 dagen",
        ),
        (
            "# default_item_code: ADJUST",
            'default_item_code: " ITEM"',
            "default_item_code",
            ITEM,
            " ITEM",
        ),
    ],
)
def test_malformed_code_in_settings(
    tmp_path: Path, old: str, new: str, key: str, expected: str, got: str
) -> None:
    folder = variant(tmp_path, {"settings.yaml": replace(old, new)})
    line = line_of(folder, "settings.yaml", new)
    assert str(only_problem(folder)) == (
        f"settings.yaml, line {line}, key entities.ent_nl.{key}: expected {expected}, got {got!r}"
    )


def test_unknown_column(tmp_path: Path) -> None:
    folder = variant(
        tmp_path, {"tax_codes.csv": replace("tax_rate_id,vat_code", "tax_rate_id,vat_code,note")}
    )
    assert str(only_problem(folder)) == (
        "tax_codes.csv, row 1, column note: unknown column; expected only tax_rate_id, vat_code"
    )


def test_missing_column(tmp_path: Path) -> None:
    header = "product_id,item_code,gl_account"
    folder = variant(tmp_path, {"products.csv": lambda text: text.replace(",gl_account", "", 1)})
    assert str(only_problem(folder)) == (
        f"products.csv, row 1, column gl_account: missing column; expected the header to name "
        f"{header.replace(',', ', ')}"
    )


def test_columns_in_another_order_are_read_by_name(tmp_path: Path) -> None:
    folder = variant(
        tmp_path,
        {
            "tax_codes.csv": lambda text: "\n".join(
                ",".join(reversed(line.split(","))) if "," in line else line
                for line in text.splitlines()
            )
        },
    )
    assert load_mappings(folder).tax_codes == load_mappings(DEMO).tax_codes


def test_row_with_more_values_than_columns(tmp_path: Path) -> None:
    folder = variant(tmp_path, {"tax_codes.csv": replace("tax_be_6,3", "tax_be_6,3,6%")})
    line = line_of(folder, "tax_codes.csv", "tax_be_6,3,6%")
    assert str(only_problem(folder)) == (
        f"tax_codes.csv, row {line}: expected at most 2 values (tax_rate_id, vat_code), got 3"
    )


@pytest.mark.parametrize("file", ["settings.yaml", "products.csv", "tax_codes.csv"])
def test_missing_required_file(tmp_path: Path, file: str) -> None:
    folder = variant(tmp_path, {file: None})
    assert str(only_problem(folder)) == f"{file}: missing file; expected it in {folder}"


def test_customer_links_file_is_optional(tmp_path: Path) -> None:
    folder = variant(tmp_path, {"customer_links.csv": None})
    assert load_mappings(folder).customer_links == {}


def test_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(MappingError) as raised:
        load_mappings(missing)
    assert str(raised.value.problems[0]) == (
        f"{missing}: expected a folder holding settings.yaml, products.csv and tax_codes.csv"
    )


@pytest.mark.parametrize("value", ["2026-13-01", "01-11-2026", "2026-11-31", "soon", ""])
def test_bad_date(tmp_path: Path, value: str) -> None:
    folder = variant(
        tmp_path,
        {"settings.yaml": replace("connection_date: 2026-11-01", f"connection_date: {value}")},
    )
    line = line_of(folder, "settings.yaml", "connection_date:")
    assert str(only_problem(folder)) == (
        f"settings.yaml, line {line}, key connection_date: expected a date written YYYY-MM-DD, "
        f"e.g. 2026-11-01, got {value!r}"
    )


def test_history_start_after_connection_date(tmp_path: Path) -> None:
    folder = variant(
        tmp_path,
        {"settings.yaml": replace("history_start: 2025-11-01", "history_start: 2026-11-02")},
    )
    line = line_of(folder, "settings.yaml", "history_start:")
    assert str(only_problem(folder)) == (
        f"settings.yaml, line {line}, key history_start: expected a date on or before "
        f"connection_date (2026-11-01), got '2026-11-02'"
    )


def test_unknown_timezone(tmp_path: Path) -> None:
    folder = variant(
        tmp_path, {"settings.yaml": replace("timezone: Europe/Amsterdam", "timezone: CET+1")}
    )
    line = line_of(folder, "settings.yaml", "timezone: CET+1")
    assert str(only_problem(folder)) == (
        f"settings.yaml, line {line}, key timezone: expected an IANA timezone name, "
        f"e.g. Europe/Amsterdam, got 'CET+1'"
    )


@pytest.mark.parametrize("value", ["101", "20.5", "-5", "yes"])
def test_live_reserve_percent_is_a_whole_percentage(tmp_path: Path, value: str) -> None:
    folder = variant(
        tmp_path,
        {"settings.yaml": replace("live_reserve_percent: 20", f"live_reserve_percent: {value}")},
    )
    line = line_of(folder, "settings.yaml", f"live_reserve_percent: {value}")
    assert str(only_problem(folder)) == (
        f"settings.yaml, line {line}, key live_reserve_percent: expected a whole percentage "
        f"from 0 to 100, e.g. 20, got '{value}'"
    )


@pytest.mark.parametrize("key", ["give_up_after_attempts", "give_up_after_days"])
@pytest.mark.parametrize("value", ["0", "2.5", "yes"])
def test_giving_up_takes_a_whole_number_of_at_least_one(
    tmp_path: Path, key: str, value: str
) -> None:
    default = {"give_up_after_attempts": 5, "give_up_after_days": 7}[key]
    folder = variant(
        tmp_path, {"settings.yaml": replace(f"{key}: {default}\n", f"{key}: {value}\n")}
    )
    line = line_of(folder, "settings.yaml", f"{key}: {value}")
    assert str(only_problem(folder)) == (
        f"settings.yaml, line {line}, key {key}: expected a whole number, at least 1, e.g. 5, "
        f"got '{value}'"
    )


def test_unknown_top_level_key(tmp_path: Path) -> None:
    folder = variant(tmp_path, {"settings.yaml": append("invoice_pushmode: sales_entry\n")})
    line = line_of(folder, "settings.yaml", "invoice_pushmode")
    assert str(only_problem(folder)) == (
        f"settings.yaml, line {line}, key invoice_pushmode: unknown key; expected one of "
        "connection_date, history_start, timezone, invoice_push_mode, customer_sync, "
        "payment_sync, closed_period, live_reserve_percent, freshness_minutes, "
        "give_up_after_attempts, "
        "give_up_after_days, corrections, entities"
    )


def test_unknown_entity_key(tmp_path: Path) -> None:
    folder = variant(tmp_path, {"settings.yaml": replace("division: 320001", "divison: 320001")})
    problems = [str(p) for p in problems_of(folder)]
    line = line_of(folder, "settings.yaml", "divison")
    assert f"settings.yaml, line {line}, key entities.ent_be.divison: unknown key; " in problems[1]
    assert "key entities.ent_be.division: missing; expected an Exact division" in problems[0]


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    folder = variant(
        tmp_path, {"settings.yaml": replace("  ent_be:\n", "  ent_be:\n   bad: [unclosed\n")}
    )
    problem = only_problem(folder)
    assert problem.file == "settings.yaml"
    assert problem.line is not None
    assert problem.line >= line_of(folder, "settings.yaml", "bad: [unclosed")
    assert str(problem).startswith(f"settings.yaml, line {problem.line}: expected valid YAML, got")


def test_yaml_key_written_twice(tmp_path: Path) -> None:
    folder = variant(tmp_path, {"settings.yaml": append("payment_sync: none\n")})
    first = line_of(DEMO, "settings.yaml", "payment_sync: billing_to_exact")
    line = line_of(folder, "settings.yaml", "payment_sync: none")
    assert str(only_problem(folder)) == (
        f"settings.yaml, line {line}, key payment_sync: expected each key once, "
        f"got 'payment_sync' again (first on line {first})"
    )


@pytest.mark.parametrize(
    ("text", "got"),
    [("# only a comment\n", "nothing"), ("- ent_nl\n", "a sequence"), ("ent_nl\n", "a scalar")],
)
def test_settings_that_are_not_key_value_lines(tmp_path: Path, text: str, got: str) -> None:
    folder = variant(tmp_path, {"settings.yaml": lambda _: text})
    assert str(only_problem(folder)) == f"settings.yaml: expected `key: value` lines, got {got}"


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("", "missing; expected one block per billing invoicing entity, keyed by its billing id"),
        ("entities:\n", "expected indented `key: value` lines, got ''"),
        ("entities: {}\n", "expected at least one invoicing entity, got none"),
    ],
)
def test_entities_missing_or_empty(tmp_path: Path, written: str, message: str) -> None:
    def rewrite_entities(text: str) -> str:
        return text[: text.index("entities:")] + written

    problem = only_problem(variant(tmp_path, {"settings.yaml": rewrite_entities}))
    assert str(problem).endswith(f"key entities: {message}")


@pytest.mark.parametrize("mode", ["billing_to_exact", "exact_to_billing"])
def test_bank_journal_required_when_payments_sync(tmp_path: Path, mode: str) -> None:
    folder = variant(
        tmp_path,
        {
            "settings.yaml": chain(
                replace("payment_sync: billing_to_exact", f"payment_sync: {mode}"),
                replace('    bank_journal: "20"   ', '    # bank_journal: "20" '),
            )
        },
    )
    problem = only_problem(folder)
    assert problem.line == line_of(folder, "settings.yaml", "ent_nl:")
    assert str(problem) == (
        f"settings.yaml, line {problem.line}, key entities.ent_nl.bank_journal: missing; "
        f"expected an Exact journal code for payments, because payment_sync is '{mode}'"
    )


def test_bank_journal_optional_without_payment_sync(tmp_path: Path) -> None:
    folder = variant(
        tmp_path,
        {
            "settings.yaml": chain(
                replace("payment_sync: billing_to_exact", "payment_sync: none"),
                lambda text: text.replace('bank_journal: "20"', "bank_journal:"),
            )
        },
    )
    entities = load_mappings(folder).settings.entities
    assert [entity.bank_journal for entity in entities.values()] == [None, None]


def test_bom_and_surrounding_whitespace_are_accepted(tmp_path: Path) -> None:
    def padded_with_bom(text: str) -> str:
        lines = (",".join(f" {cell}\t" for cell in line.split(",")) for line in text.splitlines())
        return "\ufeff" + "\n".join(f"{line}   " for line in lines) + "\n"

    folder = variant(
        tmp_path, {file: padded_with_bom for file in ("products.csv", "tax_codes.csv")}
    )
    assert (folder / "products.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    loaded, demo = load_mappings(folder), load_mappings(DEMO)
    assert loaded.products == demo.products
    assert loaded.tax_codes == demo.tax_codes


def test_blank_lines_and_comments_are_ignored(tmp_path: Path) -> None:
    folder = variant(
        tmp_path,
        {
            "products.csv": lambda text: "\n\n" + text.replace("\n", "\n\n   \n,,\n"),
            "tax_codes.csv": replace("tax_nl_9,2\n", "tax_nl_9,2\n# tax_nl_99,9\n"),
        },
    )
    loaded, demo = load_mappings(folder), load_mappings(DEMO)
    assert loaded.products == demo.products
    assert loaded.tax_codes == demo.tax_codes


def test_row_numbers_count_blank_and_comment_lines(tmp_path: Path) -> None:
    folder = variant(tmp_path, {"tax_codes.csv": lambda text: "\n\n" + text + "\n# x\ntax_x,!\n"})
    line = line_of(folder, "tax_codes.csv", "tax_x,!")
    assert only_problem(folder).line == line


def test_every_problem_of_a_load_is_listed(tmp_path: Path) -> None:
    folder = variant(
        tmp_path,
        {
            "settings.yaml": replace("timezone: Europe/Amsterdam", "timezone: Mars/Olympus"),
            "products.csv": replace("prod_team,SUB-TEAM,", "prod_team,,"),
            "tax_codes.csv": replace("tax_nl_9,2", "tax_nl_9,TOO-LONG"),
            "customer_links.csv": replace("exact_account_code", "account"),
        },
    )
    with pytest.raises(MappingError) as raised:
        load_mappings(folder)
    message = str(raised.value)
    assert message.startswith(f"the mapping tables in {folder} have 5 problems:\n")
    places = [(p.file, p.field) for p in raised.value.problems]
    assert places == [
        ("settings.yaml", "timezone"),
        ("products.csv", "item_code"),
        ("tax_codes.csv", "vat_code"),
        ("customer_links.csv", "account"),
        ("customer_links.csv", "exact_account_code"),
    ]
    assert all(f"\n  {problem}" in message for problem in raised.value.problems)
