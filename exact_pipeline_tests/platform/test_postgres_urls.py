"""URL helpers: the Dagster form, another database on the same server, never a shown password."""

from exact_pipeline.postgres import psycopg2_url, redacted, with_database


def test_password_is_never_shown() -> None:
    assert (
        redacted("postgresql://etl:s3cr%21t@db:5432/billing")
        == "postgresql://etl:***@db:5432/billing"
    )
    assert redacted("postgresql://postgres:@/billing?host=/tmp/pg") == (
        "postgresql://postgres:@/billing?host=/tmp/pg"
    )


def test_dagster_needs_the_psycopg2_scheme() -> None:
    assert psycopg2_url("postgresql://u@h/d") == "postgresql+psycopg2://u@h/d"
    assert psycopg2_url("postgres://u@h/d") == "postgresql+psycopg2://u@h/d"


def test_other_database_keeps_the_socket_query() -> None:
    assert with_database("postgresql://postgres:@/postgres?host=/tmp/pg", "billing") == (
        "postgresql://postgres:@/billing?host=/tmp/pg"
    )
