"""How often and how patiently the client tries again (transport, writes, token saves)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    read_attempts: int = 4  # tries of a GET that meets 5xx / network failures
    backoff: float = 0.5  # seconds before the first retry, doubled each time
    rate_limited_attempts: int = 6  # consecutive 429s waited out before giving up
    write_attempts: int = 4  # POSTs of a create that meets 5xx / network failures (writes.py)
    save_attempts: int = 5  # tries to store a rotated token in the state database (auth.py)

    def delay(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th failure in a row."""
        return self.backoff * 2 ** (failures - 1)


DEFAULT_RETRY = RetryPolicy()
