"""Every Exact-facing request the sandbox received: totals per endpoint and division (counted
on arrival) and the most recent answers (logged when answered)."""

from __future__ import annotations

import re
from collections import Counter, deque
from dataclasses import asdict, dataclass

_PREFIX = re.compile(r"^/api/(?:v1/(?:\d+/)?)?")
_KEY = re.compile(r"\([^)]*\)")
_DIVISION = re.compile(r"^/api/v1/(\d+)/")
LOG_CAPACITY = 5000


def endpoint_path(path: str) -> str:
    """`/api/v1/310001/salesentry/SalesEntries(guid'…')` → `salesentry/SalesEntries`."""
    return _KEY.sub("", _PREFIX.sub("", path)).lstrip("/")


def endpoint_key(method: str, path: str) -> str:
    """`POST /api/v1/310001/salesentry/SalesEntries` → `POST salesentry/SalesEntries`."""
    return f"{method.upper()} {endpoint_path(path)}"


def division_of(path: str) -> int | None:
    match = _DIVISION.match(path)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Entry:
    method: str
    path: str
    division: int | None
    status: int | None  # what the client received; None = connection dropped
    at: str
    committed_status: int | None  # what the sandbox did, when a fault lost the answer
    fault: str | None


class RequestLog:
    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.entries: deque[Entry] = deque(maxlen=LOG_CAPACITY)
        self.total = 0
        self.by_endpoint: Counter[str] = Counter()
        self.by_division: Counter[str] = Counter()
        self.by_division_endpoint: dict[str, Counter[str]] = {}
        self.by_status: Counter[str] = Counter()

    def arrive(self, method: str, path: str) -> None:
        """Count a request when it arrives (a slow answer may come long after)."""
        self.total += 1
        key = endpoint_key(method, path)
        self.by_endpoint[key] += 1
        if (division := division_of(path)) is not None:
            self.by_division[str(division)] += 1
            self.by_division_endpoint.setdefault(str(division), Counter())[key] += 1

    def record(self, entry: Entry) -> None:
        """Log how a request was answered."""
        self.entries.append(entry)
        self.by_status[str(entry.status)] += 1

    def snapshot(self) -> dict:
        return {
            "total": self.total,
            "by_endpoint": dict(self.by_endpoint),
            "by_division": dict(self.by_division),
            "by_division_endpoint": {d: dict(c) for d, c in self.by_division_endpoint.items()},
            "by_status": dict(self.by_status),
            "log": [asdict(e) for e in self.entries],
        }
