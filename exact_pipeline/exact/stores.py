"""What the client keeps between calls and runs, as protocols it is handed (`Stores`).

The client reads and writes five kinds of state; where they live is the caller's choice (the
pipeline keeps them in Postgres, shared by every process; `memory` keeps them in dicts). Each
protocol stands beside the code that uses it:
- `tokens.TokenStore`: the token chain. `locked()` is the single-flight point of a refresh:
  whoever comes next (thread or process) waits there and then re-reads the new pair;
- `ratelimit.BudgetStore`: the last X-RateLimit-* budget seen per division (across runs);
- `CursorStore` (here): the highest `Timestamp` read per division and sync endpoint;
- `errorblock.ErrorLog`: the refusals Exact counts towards its error block;
- `masterstore.MasterDataStore`: each division's master data, with its sync watermarks.
Times are the SERVER's clock (clock.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from exact_pipeline.exact.errorblock import ErrorLog
from exact_pipeline.exact.masterstore import MasterDataStore
from exact_pipeline.exact.ratelimit import BudgetStore
from exact_pipeline.exact.tokens import TokenStore


class CursorStore(Protocol):
    def get(self, division: int, endpoint: str) -> int | None: ...

    def advance(self, division: int, endpoint: str, timestamp: int) -> None:
        """Move the cursor forward, never back (pages may be replayed after a crash)."""
        ...

    def reset(self, division: int, endpoint: str) -> None: ...


@dataclass(frozen=True)
class Stores:
    """The client's state, owned by the client once handed over: `close` runs when it closes."""

    tokens: TokenStore
    budgets: BudgetStore
    cursors: CursorStore
    errors: ErrorLog
    master_data: MasterDataStore
    close: Callable[[], None] = field(default=lambda: None, repr=False)
