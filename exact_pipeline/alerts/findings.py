"""The causes that need a person now. Each `Finding` has a key that stays the same while its
cause lasts, so a cause is announced once (`rounds.py`) and again only after it cleared.

A document's key is its billing id and state: one more blocked document is news, the same one
still blocked is not, and one that moves from failed to blocked is news again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from exact_pipeline.exact.ratelimit import Budget
from exact_pipeline.exact.tokens import StoredConnection
from exact_pipeline.sync.documents import ledger
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.documents.reports import causes_of

DOCUMENTS, FRESHNESS, BUDGET, LOGIN = "documents", "freshness", "budget", "login"
KINDS = (DOCUMENTS, FRESHNESS, BUDGET, LOGIN)  # the order messages go out in

# The ledger states in which a document waits for a person (the next run alone will not help,
# or has not helped yet).
NEEDS_A_PERSON = (ledger.BLOCKED, ledger.FAILED, ledger.DEAD_LETTER, *ledger.FLAGGED)
# Alert when this share of a division's daily API budget is spent.
BUDGET_ALERT_PERCENT = 90
# Alert when the refresh token dies within this time (Exact: 30 days unused).
LOGIN_WARNING = timedelta(days=3)
LOG_IN = "run `exact-pipeline auth login`"


@dataclass(frozen=True)
class Finding:
    key: str  # stable while the cause lasts
    kind: str  # one of KINDS: findings of a kind go out in one message
    subject: str  # what it is about, e.g. a document number or a division
    causes: tuple[str, ...]  # why, for people (a document may have several)


def document_findings(rows: Sequence[LedgerRow]) -> list[Finding]:
    """One finding per document in a state that needs a person, with its causes."""
    return [
        Finding(
            key=f"document:{row.billing_id}:{row.state}",
            kind=DOCUMENTS,
            subject=row.number,
            causes=tuple(f"{row.state}: {cause}" for cause in causes_of(row)),
        )
        for row in rows
        if row.state in NEEDS_A_PERSON
    ]


def freshness_finding(asset: str, last_push: datetime | None, promise: timedelta) -> Finding:
    """The freshness promise of `asset` is broken (Dagster says so): since when nothing
    finished."""
    minutes = int(promise.total_seconds() // 60)
    since = f"the last one finished {_when(last_push)}" if last_push else "none has finished yet"
    return Finding(
        key=f"freshness:{asset}",
        kind=FRESHNESS,
        subject=asset,
        causes=(
            f"no push of {asset} has finished within its promise of {minutes} minutes: "
            f"{since}. Look at the latest runs (failed, queued behind a long backfill, or the "
            "daemon stopped?)",
        ),
    )


def budget_findings(budgets: Mapping[int, Budget | None], now: float) -> list[Finding]:
    """One finding per division that has spent `BUDGET_ALERT_PERCENT` % of today's budget (as
    last seen; a budget seen before Exact's daily reset says nothing about today)."""
    found = []
    for division, budget in sorted(budgets.items()):
        if budget is None or budget.daily_limit is None or budget.daily_remaining is None:
            continue
        if budget.renewed(now) or budget.daily_limit <= 0:
            continue
        used = budget.daily_limit - budget.daily_remaining
        if used * 100 < budget.daily_limit * BUDGET_ALERT_PERCENT:
            continue
        assert budget.daily_reset is not None  # not renewed
        percent = used * 100 // budget.daily_limit
        found.append(
            Finding(
                key=f"budget:{division}",
                kind=BUDGET,
                subject=f"division {division}",
                causes=(
                    f"{percent} % of today's Exact API budget used ({used} of "
                    f"{budget.daily_limit} calls); it resets "
                    f"{_when(datetime.fromtimestamp(budget.daily_reset, UTC))}. When it is "
                    "spent, runs stop cleanly and the rest waits for the reset",
                ),
            )
        )
    return found


def login_findings(connection: StoredConnection | None, now: datetime) -> list[Finding]:
    """The token chain needs a login: none stored, dead, or its refresh token dies within
    `LOGIN_WARNING` (the daily keep-alive job renews it, so this means it has not run)."""
    if connection is None:
        return [_login("login:missing", f"Exact Online is not connected: {LOG_IN}")]
    if connection.is_dead:
        return [
            _login("login:dead", f"the connection is dead ({connection.dead_reason}): {LOG_IN}")
        ]
    expires = connection.refresh_expires_at
    if expires - now > LOGIN_WARNING:
        return []
    return [
        _login(
            "login:expiring",
            f"the refresh token dies {_when(expires)} unless a run renews it (is the daemon "
            f"running the daily keep_exact_connection_alive job?); otherwise {LOG_IN} before then",
        )
    ]


def unreadable_login(problem: str) -> Finding:
    """The stored connection cannot be read (a wrong EXACT_TOKEN_KEY, a missing setting)."""
    return _login("login:unreadable", problem)


def _login(key: str, cause: str) -> Finding:
    return Finding(key=key, kind=LOGIN, subject="Exact Online connection", causes=(cause,))


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
