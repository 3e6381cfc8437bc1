"""Exact's API limits, per division: a minutely window (fixed clock windows of
`window_seconds`), a daily quota (UTC days) and the error block (more than N 400/401/403/404
answers on one endpoint within an hour block that endpoint for an hour, doubling on repeat).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

from exact_pipeline.sandbox.clock import utc_midnight_after
from exact_pipeline.sandbox.config import SandboxConfig

ERROR_STATUSES = frozenset({400, 401, 403, 404})
HOUR = 3600.0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    headers: dict[str, str]


@dataclass
class Usage:
    day: str = ""
    daily: int = 0
    window: int = -1
    minutely: int = 0


class RateLimiter:
    def __init__(self) -> None:
        self.usage: dict[int, Usage] = {}

    def consume(self, division: int, epoch: float, config: SandboxConfig) -> Decision:
        """Count one call (unless it is refused) and give the headers Exact would send."""
        usage = self._current(division, epoch, config)
        daily = {
            "X-RateLimit-Limit": str(config.daily_limit),
            "X-RateLimit-Reset": str(_daily_reset_ms(epoch)),
        }
        window_reset = (usage.window + 1) * config.window_seconds * 1000
        minutely = {
            "X-RateLimit-Minutely-Limit": str(config.minutely_limit),
            "X-RateLimit-Minutely-Reset": str(window_reset),
        }
        if usage.daily >= config.daily_limit:
            return Decision(False, daily | {"X-RateLimit-Remaining": "0"})
        if usage.minutely >= config.minutely_limit:
            return Decision(False, minutely | {"X-RateLimit-Minutely-Remaining": "0"})
        usage.daily += 1
        usage.minutely += 1
        return Decision(
            True,
            daily
            | minutely
            | {
                "X-RateLimit-Remaining": str(config.daily_limit - usage.daily),
                "X-RateLimit-Minutely-Remaining": str(config.minutely_limit - usage.minutely),
            },
        )

    def minutely_refusal(self, division: int, epoch: float, config: SandboxConfig) -> Decision:
        """What a minutely 429 looks like right now (for injected bursts)."""
        usage = self._current(division, epoch, config)
        return Decision(
            False,
            {
                "X-RateLimit-Minutely-Limit": str(config.minutely_limit),
                "X-RateLimit-Minutely-Remaining": "0",
                "X-RateLimit-Minutely-Reset": str(
                    (usage.window + 1) * config.window_seconds * 1000
                ),
            },
        )

    def _current(self, division: int, epoch: float, config: SandboxConfig) -> Usage:
        usage = self.usage.setdefault(division, Usage())
        day = datetime.fromtimestamp(epoch, UTC).date().isoformat()
        if usage.day != day:
            usage.day, usage.daily = day, 0
        window = math.floor(epoch / config.window_seconds)
        if usage.window != window:
            usage.window, usage.minutely = window, 0
        return usage

    def snapshot(self, epoch: float, config: SandboxConfig) -> dict[str, dict[str, int]]:
        out = {}
        for division in sorted(self.usage):
            usage = self._current(division, epoch, config)
            out[str(division)] = {
                "daily_used": usage.daily,
                "daily_remaining": max(config.daily_limit - usage.daily, 0),
                "minutely_used": usage.minutely,
                "minutely_remaining": max(config.minutely_limit - usage.minutely, 0),
            }
        return out


def _daily_reset_ms(epoch: float) -> int:
    return int(utc_midnight_after(datetime.fromtimestamp(epoch, UTC)).timestamp() * 1000)


@dataclass
class Block:
    until: float
    level: int


class ErrorBlocker:
    """Imitates "no more than 10 errors per key, user, division, endpoint and hour"."""

    def __init__(self) -> None:
        self.errors: dict[str, deque[float]] = {}
        self.blocks: dict[str, Block] = {}

    def blocked_until(self, key: str, epoch: float, config: SandboxConfig) -> float | None:
        block = self.blocks.get(key)
        if not config.error_block_enabled or block is None or epoch >= block.until:
            return None
        return block.until

    def record(self, key: str, status: int, epoch: float, config: SandboxConfig) -> None:
        if status not in ERROR_STATUSES or not config.error_block_enabled:
            return
        times = self.errors.setdefault(key, deque())
        times.append(epoch)
        while times and times[0] <= epoch - HOUR:
            times.popleft()
        if len(times) > config.error_block_threshold:
            previous = self.blocks.get(key)
            level = previous.level + 1 if previous else 1
            self.blocks[key] = Block(epoch + config.error_block_seconds * 2 ** (level - 1), level)
            times.clear()

    def snapshot(self, epoch: float) -> dict[str, float]:
        return {key: b.until for key, b in self.blocks.items() if b.until > epoch}
